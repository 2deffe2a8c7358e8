"""Trust: chains validated by cryptography, separate roles, allowed list, EKU list, TSA anchors.

Real certificates (pki.py), real C2PA signing and reading, a real openssl TSA on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DISCLOSURES, ERROR_PREFIX, MEDIA, CliResult, IdentityFiles, write_identity
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID
from payload import flipped_copy
from tsa import running_tsa

from genai_provenance.credentials.signer_certs import chains_from_store
from genai_provenance.errors import IdentityError
from genai_provenance.schemas import validate
from genai_provenance.trust.config import (
    ENV_ALLOWED_LIST,
    ENV_ANCHORS,
    ENV_TRUST_CONFIG,
    ENV_TSA_TRUST,
    TrustFlags,
    chain_problem,
    fingerprint,
    resolve_trust_config,
)
from genai_provenance.trust.pki import Issued, create_root, issue_leaf
from genai_provenance.workspace import PACKAGER_ANCHORS, TRUST_ANCHORS, Workspace, init_workspace

Cli = Callable[..., CliResult]
NOW = dt.datetime.now(dt.UTC)
EMAIL = "1.3.6.1.5.5.7.3.4"
DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"


def _intermediate(
    root: Issued, name: str, *, path_length: int | None = 0, not_before: dt.datetime | None = None
) -> Issued:
    """A CA under `root` (cryptography builder; pki.py makes only roots and leaves)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or NOW - dt.timedelta(hours=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name)]))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
        .sign(root.key, hashes.SHA256())
    )
    return Issued(cert, key)


# --------------------------------------------------------------------------- chain validation


def test_chain_accepts_what_pki_issues_and_refuses_what_it_must() -> None:
    root = create_root("Approver Root", "Studio")
    leaf = issue_leaf(root, "Approver", "Studio")
    assert chain_problem([leaf.cert, root.cert], [root.cert]) is None
    assert chain_problem([leaf.cert], [root.cert]) is None  # the root need not travel with the chain
    # A TLS server certificate is not an approver or a packager.
    tls = issue_leaf(root, "www.example.test", "Studio", eku=ExtendedKeyUsageOID.SERVER_AUTH)
    problem = chain_problem([tls.cert, root.cert], [root.cert])
    assert problem and "extended key usage" in problem
    # Another root.
    other = create_root("Other Root", "Elsewhere")
    problem = chain_problem([leaf.cert, root.cert], [other.cert])
    assert problem and "not among the trusted roots" in problem and "Approver Root" in problem
    assert chain_problem([leaf.cert], []) == "no trusted roots are configured"


def test_chain_checks_every_certificate_at_the_relevant_time() -> None:
    """A leaf valid today under a root that expired: refused (the old code looked at the leaf's dates only)."""
    root = create_root("Lapsed Root", "Studio", not_before=NOW - dt.timedelta(days=900), days=800)  # ended 100 days ago
    leaf = issue_leaf(root, "Approver", "Studio", not_before=NOW - dt.timedelta(days=850), days=1000)
    problem = chain_problem([leaf.cert, root.cert], [root.cert], NOW)
    assert problem and "Lapsed Root" in problem and "validity" in problem
    # At a time when every certificate was valid (a record issued then), the same chain passes.
    assert chain_problem([leaf.cert, root.cert], [root.cert], NOW - dt.timedelta(days=200)) is None


def test_chain_enforces_path_length() -> None:
    """pki.py roots say pathLen 0: an intermediate under them may not issue (hand-written check missed it)."""
    root = create_root("Root", "Studio")
    intermediate = _intermediate(root, "Sub CA", path_length=None)
    leaf = issue_leaf(intermediate, "Approver", "Studio")
    problem = chain_problem([leaf.cert, intermediate.cert], [root.cert])
    assert problem and "path length" in problem


def test_leaf_that_is_not_a_ca_cannot_issue() -> None:
    root = create_root("Root", "Studio")
    leaf = issue_leaf(root, "Approver", "Studio")
    minted = issue_leaf(leaf, "Head of Legal", "Studio")
    problem = chain_problem([minted.cert, leaf.cert, root.cert], [root.cert])
    assert problem and "not a CA" in problem


# --------------------------------------------------------------------------- roles: the packager root


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return init_workspace(tmp_path_factory.mktemp("trust") / "ws", "Trust Studio").workspace


def test_init_gives_the_packager_its_own_root(home: Workspace) -> None:
    packager = home.packager_identity()
    media = x509.load_pem_x509_certificates(home.trust_anchors().encode())
    packagers = x509.load_pem_x509_certificates(home.packager_anchors().encode())
    assert packager.certificate.issuer == packagers[0].subject
    assert packagers[0] not in media and packagers[0].subject != media[0].subject
    assert (home.home / "packager-ca" / "root.key").stat().st_mode & 0o777 == 0o600
    assert chain_problem([packager.certificate], media) is not None


@pytest.fixture(scope="module")
def package(home: Workspace, cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("pkg")
    src = base / "src"
    src.mkdir()
    res = cli(
        "sign", MEDIA / "plate.jpg", "-o", src / "plate.jpg", "--disclosure", DISCLOSURES / "plate.json",
        "--home", home.home,
    )  # fmt: skip
    assert res.code == 0, res.stderr
    res = cli("package", src, "-o", base / "pkg", "--home", home.home)
    assert res.code == 0, res.stdout + res.stderr
    return base / "pkg"


def _resign_report(bag: Path, identity: object) -> None:
    """Re-sign the package report with another identity and fix the tag manifests: only trust can tell."""
    import hashlib

    from genai_provenance.trust.detached import sign_bytes

    body = (bag / "genai-provenance" / "package-report.json").read_bytes()
    sig_path = bag / "genai-provenance" / "package-report.sig.json"
    doc = json.loads(sig_path.read_text(encoding="utf-8"))
    doc["signature"] = sign_bytes(body, identity)  # type: ignore[arg-type]
    sig_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    for alg in ("sha256", "sha512"):
        tags = bag / f"tagmanifest-{alg}.txt"
        lines = []
        for line in tags.read_text(encoding="utf-8").splitlines():
            digest, name = line.split(maxsplit=1)
            if name == "genai-provenance/package-report.sig.json":
                digest = hashlib.new(alg, sig_path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {name}")
        tags.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_package_report_signed_by_the_media_signer_fails_verify_package(
    home: Workspace, package: Path, cli: Cli, tmp_path: Path
) -> None:
    assert cli("verify-package", package, "--home", home.home).code == 0
    bag = tmp_path / "pkg"
    shutil.copytree(package, bag)
    _resign_report(bag, home.identity())  # the media signer: trusted for media, not for packages
    res = cli("verify-package", bag, "--home", home.home, "--format", "json")
    assert res.code == 1
    doc = res.json()
    validate("package-verification", doc, "verify-package --format json")
    [problem] = doc["problems"]
    assert "not trusted as a packager" in problem and "\n" not in problem
    # Naming the media anchors as packager roots is what it would take; the default never does.
    ok = cli("verify-package", bag, "--home", home.home, "--packager-trust", home.path(TRUST_ANCHORS))
    assert ok.code == 0, ok.stdout


def test_verify_package_with_a_foreign_packager_root_fails(
    home: Workspace, package: Path, cli: Cli, outsider: IdentityFiles
) -> None:
    res = cli("verify-package", package, "--home", home.home, "--packager-trust", outsider.root_pem)
    assert res.code == 1 and "not trusted as a packager" in res.stdout


def test_verify_package_without_packager_anchors_fails_closed(
    home: Workspace, package: Path, cli: Cli, tmp_path: Path
) -> None:
    """A workspace from before packager roots (no trust/packager-anchors.pem): nothing vouches for the report."""
    old_home = tmp_path / "old-ws"
    shutil.copytree(home.home, old_home)
    (old_home / PACKAGER_ANCHORS).unlink()
    res = cli("verify-package", package, "--home", old_home)
    assert res.code == 1 and "no packager trust anchors" in res.stdout


def test_approval_signed_by_the_media_signer_is_issuer_untrusted(home: Workspace) -> None:
    from genai_provenance.clearances.records import ISSUER_UNTRUSTED, authenticate, load_anchors, sign_record

    record = {
        "kind": "approval", "id": "APR-MEDIA", "production": "PRJ-1", "scope": {"asset_ids": ["SH1"]},
        "covers": ["background-element"],
    }  # fmt: skip
    envelope = sign_record(record, home.identity())
    result = authenticate(envelope, load_anchors(home.approver_anchors()))
    assert result.status == ISSUER_UNTRUSTED and "approver roots" in result.detail


# --------------------------------------------------------------------------- trust configuration files


def test_trust_files_are_validated_with_a_one_line_error(home: Workspace, cli: Cli, tmp_path: Path) -> None:
    signed = tmp_path / "s.jpg"
    assert cli("sign", MEDIA / "plate.jpg", "-o", signed, "--disclosure", DISCLOSURES / "plate.json",
               "--home", home.home).code == 0  # fmt: skip
    key_inside = tmp_path / "with-key.pem"
    key_inside.write_bytes(home.path(TRUST_ANCHORS).read_bytes() + home.path("ca/root.key").read_bytes())
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    bad_oid = tmp_path / "ekus.txt"
    bad_oid.write_text("# signing EKUs\nemailProtection\n")
    cases = [
        ("--trust-anchors", key_inside, "private key"),
        ("--tsa-trust", junk, "no PEM certificate"),
        ("--allowed-list", junk, "no PEM certificate"),
        ("--trust-config", bad_oid, "line 2"),
        ("--approver-trust", tmp_path / "absent.pem", "not found"),
    ]
    for flag, path, why in cases:
        res = cli("verify", signed, "--home", home.home, flag, path)
        assert res.code == 2, (flag, res.stdout)
        [line] = res.error_lines
        assert line.startswith(ERROR_PREFIX) and str(path) in line and why in line, line
        assert "PRIVATE KEY" not in res.stderr


def test_resolution_order_is_flags_then_environment_then_workspace(
    home: Workspace, outsider: IdentityFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws_media = home.trust_anchors()
    config = resolve_trust_config(TrustFlags(), home.home)
    assert config.media_pem == ws_media and config.packager_pem == home.packager_anchors()
    assert config.tsa_pem is None and config.allowed_list == () and config.ekus is None
    ekus = tmp_path / "ekus.txt"
    ekus.write_text(f"{DOCUMENT_SIGNING}  # documentSigning\n")
    monkeypatch.setenv(ENV_ANCHORS, str(outsider.root_pem))
    monkeypatch.setenv(ENV_TSA_TRUST, str(outsider.root_pem))
    monkeypatch.setenv(ENV_ALLOWED_LIST, str(outsider.cert))
    monkeypatch.setenv(ENV_TRUST_CONFIG, str(ekus))
    config = resolve_trust_config(TrustFlags(), home.home)
    outsider_pem = outsider.root_pem.read_text()
    assert config.media_pem == outsider_pem and config.tsa_pem == outsider_pem
    chain = x509.load_pem_x509_certificates(outsider.cert.read_bytes())
    assert config.allowed_list == tuple(sorted({fingerprint(c) for c in chain}))
    assert config.ekus == (DOCUMENT_SIGNING,)
    config = resolve_trust_config(TrustFlags(anchors=home.path(TRUST_ANCHORS)), home.home)
    assert config.media_pem == ws_media  # the flag beats the environment
    monkeypatch.setenv(ENV_ANCHORS, str(tmp_path / "missing.pem"))
    with pytest.raises(IdentityError, match=r"missing\.pem: media trust anchors file not found"):
        resolve_trust_config(TrustFlags(), home.home)


# --------------------------------------------------------------------------- signer certificates, allowed list, EKUs


@dataclass
class Signed:
    ws: Workspace
    ours: Path  # signed by the workspace signer (emailProtection)
    foreign: Path  # signed by an identity under a root nobody trusts
    foreign_id: IdentityFiles
    other_foreign: IdentityFiles


@pytest.fixture(scope="module")
def signed(home: Workspace, cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> Signed:
    base = tmp_path_factory.mktemp("signed")
    root = create_root("Freelance Root", "Freelance Co")
    foreign_id = write_identity(base / "freelance", issue_leaf(root, "Freelance Colorist", "Freelance Co"), root)
    other = write_identity(base / "other", issue_leaf(root, "Someone Else", "Freelance Co"), root)
    ours, foreign = base / "ours.jpg", base / "foreign.jpg"
    for out, extra in ((ours, []), (foreign, foreign_id.cli_args())):
        res = cli("sign", MEDIA / "plate.jpg", "-o", out, "--disclosure", DISCLOSURES / "plate.json",
                  "--home", home.home, *extra)  # fmt: skip
        assert res.code == 0, res.stderr
    return Signed(home, ours, foreign, foreign_id, other)


def _verify(cli: Cli, path: Path, home: Workspace, *args: object) -> tuple[int, dict]:
    res = cli("verify", path, "--home", home.home, "--format", "json", *args)
    doc = res.json()
    validate("verify-report", doc, "verify --format json")
    return res.code, doc["assets"][0]


def test_signing_chain_is_read_from_the_cose_signature(signed: Signed) -> None:
    import c2pa

    from genai_provenance.credentials.read import TrustSettings
    from genai_provenance.credentials.signer_certs import signing_chains

    chains = signing_chains(signed.foreign, "image/jpeg", TrustSettings().context())
    with open(signed.foreign, "rb") as stream, c2pa.Reader("image/jpeg", stream) as reader:
        active = json.loads(reader.json())["active_manifest"]
    leaf, root = x509.load_pem_x509_certificates(signed.foreign_id.cert.read_bytes())
    assert chains[active] == [leaf, root]
    assert chains_from_store(b"") == {}


def test_allowed_list_trusts_a_listed_end_entity_certificate(signed: Signed, cli: Cli) -> None:
    code, asset = _verify(cli, signed.foreign, signed.ws)
    assert code == 1 and asset["status"] == "valid-untrusted"
    code, asset = _verify(cli, signed.foreign, signed.ws, "--allowed-list", signed.foreign_id.cert)
    assert code == 0 and asset["status"] == "trusted", asset["failures"]
    assert asset["signer"]["allowed_list"] is True
    leaf = x509.load_pem_x509_certificates(signed.foreign_id.cert.read_bytes())[0]
    assert asset["signer"]["fingerprint"] == fingerprint(leaf)
    assert any("allowed list" in n for n in asset["notes"])
    # Someone else's certificate on the list does not help.
    code, asset = _verify(cli, signed.foreign, signed.ws, "--allowed-list", signed.other_foreign.cert)
    assert code == 1 and asset["status"] == "valid-untrusted"


def test_allowed_list_never_excuses_tampering(signed: Signed, cli: Cli, tmp_path: Path) -> None:
    tampered = flipped_copy(signed.foreign, tmp_path / "tampered.jpg")
    code, asset = _verify(cli, tampered, signed.ws, "--allowed-list", signed.foreign_id.cert)
    assert code == 1 and asset["status"] == "invalid"


def test_trust_config_limits_the_signer_ekus(signed: Signed, cli: Cli, tmp_path: Path) -> None:
    """c2pa accepts trust.trust_config and ignores it (an emailProtection leaf stays Trusted): we enforce it."""
    doc_only = tmp_path / "doc-only.txt"
    doc_only.write_text(f"{DOCUMENT_SIGNING}\n")
    code, asset = _verify(cli, signed.ours, signed.ws, "--trust-config", doc_only)
    assert code == 1 and asset["status"] == "valid-untrusted"
    [failure] = asset["failures"]
    assert failure["code"] == "signingCredential.untrusted" and "extended key usage" in failure["explanation"]
    email = tmp_path / "email.txt"
    email.write_text(f"{EMAIL}\n{DOCUMENT_SIGNING}\n")
    code, asset = _verify(cli, signed.ours, signed.ws, "--trust-config", email)
    assert code == 0 and asset["status"] == "trusted"
    assert EMAIL in asset["signer"]["ekus"]


# --------------------------------------------------------------------------- time-stamp authority anchors


@pytest.fixture(scope="module")
def stamped(home: Workspace, cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip(reason="openssl is not installed (needed to run the local time-stamp authority)")
    base = tmp_path_factory.mktemp("stamped")
    with running_tsa(base / "tsa") as tsa:
        tsa_root = base / "tsa-root.pem"
        tsa_root.write_bytes(tsa.root_pem)
        out = base / "stamped.jpg"
        res = cli("sign", MEDIA / "plate.jpg", "-o", out, "--disclosure", DISCLOSURES / "plate.json",
                  "--home", home.home, "--tsa-url", tsa.url)  # fmt: skip
        assert res.code == 0, res.stderr
        # An identity issued by the TSA's root: a time-stamp authority must not vouch for media signers.
        tsa_signer = write_identity(
            base / "tsa-signer", issue_leaf(tsa.root, "Not A Media Signer", "Test TSA"), tsa.root
        )
        by_tsa_root = base / "by-tsa-root.jpg"
        res = cli("sign", MEDIA / "plate.jpg", "-o", by_tsa_root, "--disclosure", DISCLOSURES / "plate.json",
                  "--home", home.home, *tsa_signer.cli_args())  # fmt: skip
        assert res.code == 0, res.stderr
        yield out, tsa_root, by_tsa_root


def test_tsa_anchors_make_the_time_stamp_trusted(stamped: tuple[Path, Path, Path], home: Workspace, cli: Cli) -> None:
    out, tsa_root, _ = stamped
    code, asset = _verify(cli, out, home)
    assert code == 0 and asset["time_stamped"] is True and asset["time_stamp_trusted"] is False
    code, asset = _verify(cli, out, home, "--tsa-trust", tsa_root)
    assert code == 0 and asset["status"] == "trusted"
    assert asset["time_stamped"] is True and asset["time_stamp_trusted"] is True
    assert not any("time-stamp authority is not among" in n for n in asset["notes"])
    res = cli("verify", out, "--home", home.home, "--tsa-trust", tsa_root)
    assert "[time-stamp authority trusted]" in res.stdout
    explained = cli("explain", out, "--home", home.home, "--tsa-trust", tsa_root, "--format", "json")
    assert explained.code == 0, explained.stdout
    validate("explain-report", explained.json(), "explain --format json")
    # The same, from the environment variable.
    res = cli("verify", out, "--home", home.home, "--format", "json", env={ENV_TSA_TRUST: str(tsa_root)})
    assert res.json()["assets"][0]["time_stamp_trusted"] is True


def test_tsa_anchors_do_not_vouch_for_media_signers(
    stamped: tuple[Path, Path, Path], home: Workspace, cli: Cli
) -> None:
    """c2pa has one anchor list; a signer under the TSA root alone is not trusted for media."""
    _, tsa_root, by_tsa_root = stamped
    code, asset = _verify(cli, by_tsa_root, home, "--tsa-trust", tsa_root)
    assert code == 1 and asset["status"] == "valid-untrusted"
    assert "not trusted as a media signer" in asset["failures"][0]["explanation"]
    assert (home.home / PACKAGER_ANCHORS).is_file()
