"""A real OCSP responder on 127.0.0.1: `openssl ocsp -index index.txt -reqin Q -respout R` answers each
request, behind a small HTTP server bound to 127.0.0.1 (openssl 3.0's own `-port` listens on every
interface). Certificates are made by trust/pki.py.

`OcspAuthority` is a media CA whose leaves name the responder in their AIA extension; a delegated
responder certificate (EKU OCSPSigning) signs the answers. `revoke(leaf)` marks a leaf revoked in
index.txt, which openssl reads for every request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from local_http import LocalResponder
from tsa import free_port

from genai_provenance.trust.pki import Issued, create_root, issue_leaf


def _index_time(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%y%m%d%H%M%SZ")


class OcspAuthority(LocalResponder):
    """A CA plus its OCSP responder process; `url` is what the leaves' AIA names."""

    name, reply_type = "ocsp", "application/ocsp-response"

    def __init__(self, workdir: Path | None = None, name: str = "Test Production Root CA") -> None:
        super().__init__()
        if shutil.which("openssl") is None:
            raise RuntimeError("openssl is not installed")
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="ocsp-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.root = create_root(name, "Test Production")
        self.responder = issue_leaf(
            self.root, "Test OCSP Responder", "Test Production", days=365, eku=ExtendedKeyUsageOID.OCSP_SIGNING
        )
        self.index = self.dir / "index.txt"
        self._entries: dict[int, str] = {}
        self.index.write_text("")
        (self.dir / "index.txt.attr").write_text("unique_subject = no\n")
        (self.dir / "ca.pem").write_bytes(self.root.cert_pem())
        (self.dir / "responder.pem").write_bytes(self.responder.cert_pem())
        key = self.dir / "responder.key"
        key.touch(mode=0o600)
        key.write_bytes(self.responder.key_pem())
        self.requests = 0
        self._lock = threading.Lock()

    @property
    def root_pem(self) -> bytes:
        return self.root.cert_pem()

    def issue(self, common_name: str, *, url: str | None = None) -> Issued:
        """A media signing leaf naming this responder (or `url`) in its AIA; listed as valid."""
        leaf = issue_leaf(self.root, common_name, "Test Production", ocsp_url=url or self.url)
        self._entries[leaf.cert.serial_number] = self._line("V", leaf.cert, "")
        self._write_index()
        return leaf

    def revoke(self, leaf: Issued) -> None:
        revoked_at = _index_time(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)) + ",keyCompromise"
        self._entries[leaf.cert.serial_number] = self._line("R", leaf.cert, revoked_at)
        self._write_index()

    def _line(self, flag: str, cert: x509.Certificate, revoked: str) -> str:
        subject = "/" + "/".join(a.rfc4514_string() for a in reversed(list(cert.subject)))
        expiry = _index_time(cert.not_valid_after_utc)
        return f"{flag}\t{expiry}\t{revoked}\t{cert.serial_number:X}\tunknown\t{subject}\n"

    def _write_index(self) -> None:
        self.index.write_text("".join(self._entries.values()))

    def answer(self, request: bytes) -> bytes:
        """One DER OCSPRequest -> the DER OCSPResponse `openssl ocsp` makes from index.txt."""
        with self._lock:
            self.requests += 1
            n = self.requests
            query, reply = self.dir / f"q{n}.der", self.dir / f"r{n}.der"
            query.write_bytes(request)
            cmd = [
                "openssl", "ocsp", "-index", str(self.index), "-CA", str(self.dir / "ca.pem"),
                "-rsigner", str(self.dir / "responder.pem"), "-rkey", str(self.dir / "responder.key"),
                "-reqin", str(query), "-respout", str(reply), "-nmin", "60",
            ]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
            if done.returncode != 0 or not reply.exists():
                raise RuntimeError(f"openssl ocsp failed: {done.stderr.decode(errors='replace').strip()}")
            return reply.read_bytes()

    def start(self) -> OcspAuthority:
        return self.serve(self.port)  # the port the leaves' AIA already names


@contextlib.contextmanager
def running_ocsp(workdir: Path | None = None, name: str = "Test Production Root CA") -> Iterator[OcspAuthority]:
    with OcspAuthority(workdir, name) as authority:
        yield authority
