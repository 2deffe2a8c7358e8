"""A real RFC 3161 time-stamp authority on 127.0.0.1: `openssl ts -reply` behind a small HTTP server.

Certificates are made with `cryptography`: a TSA root CA and a TSA certificate (EKU timeStamping,
critical). Use `TimeStampAuthority` as a context manager, or the `tsa` pytest fixture.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID
from local_http import LocalResponder

from genai_provenance.trust.pki import Issued, create_root, issue_leaf

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_QUERY = 64 * 1024


def issue_tsa_cert(ca: Issued, common_name: str = "Test Time-Stamp Authority") -> Issued:
    """A P-256 TSA certificate: KU digitalSignature, EKU timeStamping only and critical (RFC 3161 2.3)."""
    return issue_leaf(ca, common_name, "Test TSA", days=365, eku=ExtendedKeyUsageOID.TIME_STAMPING, eku_critical=True)


# `certs` lists only the root: the TSA's own certificate is added by openssl when the query asks
# for it (certReq); listing it here too makes the token carry it twice, which strict verifiers reject.
OPENSSL_TS_CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/root.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1.1
other_policies = 1.3.6.1.4.1.55555.1.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TimeStampAuthority(LocalResponder):
    """An RFC 3161 TSA served over HTTP on 127.0.0.1; `url` is what c2pa's `ta_url` wants."""

    name, reply_type, max_body = "tsa", REPLY_TYPE, MAX_QUERY

    def __init__(self, workdir: Path | None = None) -> None:
        super().__init__()
        if shutil.which("openssl") is None:
            raise RuntimeError("openssl is not installed")
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="tsa-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.root = create_root("Test TSA Root CA", "Test TSA")
        self.cert = issue_tsa_cert(self.root)
        (self.dir / "root.pem").write_bytes(self.root.cert_pem())
        (self.dir / "tsa.pem").write_bytes(self.cert.cert_pem())
        key = self.dir / "tsa.key"
        key.touch(mode=0o600)
        key.write_bytes(self.cert.key_pem())
        (self.dir / "serial").write_text("01\n")
        self.config = self.dir / "openssl-ts.cnf"
        self.config.write_text(OPENSSL_TS_CONFIG.format(dir=self.dir))
        self.requests = 0
        self._lock = threading.Lock()

    @property
    def root_pem(self) -> bytes:
        return self.root.cert_pem()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.bound_port}/"

    def reply(self, query: bytes) -> bytes:
        """Answer one DER TimeStampReq with a DER TimeStampResp made by `openssl ts -reply`."""
        with self._lock:  # openssl updates the serial file: one reply at a time
            self.requests += 1
            n = self.requests
            query_file, reply_file = self.dir / f"q{n}.tsq", self.dir / f"r{n}.tsr"
            query_file.write_bytes(query)
            cmd = ["openssl", "ts", "-reply", "-config", str(self.config), "-queryfile", str(query_file)]
            done = subprocess.run(
                [*cmd, "-out", str(reply_file)],
                capture_output=True,
                timeout=30,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"openssl ts -reply failed: {done.stderr.decode(errors='replace').strip()}")
            return reply_file.read_bytes()

    answer = reply

    def accepts(self, content_type: str) -> bool:
        return content_type == QUERY_TYPE


@contextlib.contextmanager
def running_tsa(workdir: Path | None = None) -> Iterator[TimeStampAuthority]:
    with TimeStampAuthority(workdir) as tsa:
        yield tsa


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimeStampAuthority]:
    """A running TSA for the module (import this fixture into a test module to use it)."""
    if shutil.which("openssl") is None:
        pytest.skip(reason="openssl is not installed (needed to run the local time-stamp authority)")
    with running_tsa(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority
