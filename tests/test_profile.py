"""The production signing profile (config.toml): export scripts sign with no flags; a real TSA and a
real OCSP responder (openssl, on 127.0.0.1) back it; flags > environment > file > workspace."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2
import pytest
from conftest import DISCLOSURES, ERROR_PREFIX, MEDIA, leftovers, sha256, write_identity
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as x509_ocsp
from ocsp import OcspAuthority, running_ocsp
from tsa import TimeStampAuthority, free_port, running_tsa

from genai_provenance.credentials.ocsp import CertStatus, check_response
from genai_provenance.credentials.staple import StapleError, staple_ocsp
from genai_provenance.errors import SigningError
from genai_provenance.schemas import validate
from genai_provenance.trust.pki import Issued, create_root, issue_leaf
from genai_provenance.workspace import TRUST_ANCHORS, Workspace, init_workspace

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl runs the local TSA and OCSP responder")

PLATE = MEDIA / "plate.jpg"
DISCLOSURE = DISCLOSURES / "plate.json"
SIGNER_CN = "Studio Production Signer"


@dataclass
class Studio:
    ws: Workspace
    ca: OcspAuthority
    tsa: TimeStampAuthority
    folder: Path
    leaf: Issued

    def identity_files(self, leaf: Issued, name: str) -> tuple[Path, Path]:
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        chain, key = folder / "chain.pem", folder / "key.pem"
        chain.write_bytes(leaf.cert_pem() + self.ca.root_pem)
        key.touch(mode=0o600)
        key.write_bytes(leaf.key_pem())
        return chain, key

    def config(self, path: Path, leaf: Issued | None = None, extra: str = "", ocsp: str = 'mode = "require"') -> Path:
        chain, key = self.identity_files(leaf or self.leaf, path.stem)
        path.write_text(
            f'tsa_url = "{self.tsa.url}"\n{extra}\n'
            f'[signer]\ncert = "{chain}"\nkey = "{key}"\n\n'
            f"[ocsp]\n{ocsp}\n\n"
            f'[trust]\nanchors = "prod-root.pem"\ntsa_anchors = "tsa-root.pem"\n'
        )
        return path


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    base = tmp_path_factory.mktemp("profile")
    ws = init_workspace(base / "ws", "Profile Studio").workspace
    with running_ocsp(base / "ocsp") as ca, running_tsa(base / "tsa") as tsa:
        studio = Studio(ws, ca, tsa, base, ca.issue(SIGNER_CN))
        (ws.home / "prod-root.pem").write_bytes(ca.root_pem)
        (ws.home / "tsa-root.pem").write_bytes(tsa.root_pem)
        studio.config(ws.home / "config.toml")  # found by every command run with this workspace
        yield studio


def _env(studio: Studio, **more: str) -> dict[str, str]:
    return {"GENAI_PROVENANCE_HOME": str(studio.ws.home), **more}


def _status(res: Any) -> tuple[str, str]:
    asset = res.json()["assets"][0]
    return asset["status"], asset["signer"]["common_name"]


def test_sign_with_no_flags_uses_the_profile(studio: Studio, cli_process: Any, tmp_path: Path) -> None:
    out = tmp_path / "signed.jpg"
    before = sha256(PLATE)
    res = cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--format", "json", env=_env(studio))
    assert res.code == 0, res.stderr
    assert sha256(PLATE) == before
    doc = res.json()
    validate("sign-report", doc, "sign --format json")
    assert doc["asset"]["status"] == "trusted"  # read back against the profile's anchors
    assert doc["signer_revocation"]["status"] == "good"
    assert doc["signer_revocation"]["responder"] == studio.ca.url
    assert doc["signer_revocation"]["nonce_checked"] is True
    res = cli_process("verify", out, "--format", "json", env=_env(studio))
    assert res.code == 0, res.stdout
    assert _status(res) == ("trusted", SIGNER_CN)  # the profile's signer, not the workspace's development one


def test_environment_overrides_the_file_and_flags_override_both(
    studio: Studio, cli_process: Any, tmp_path: Path
) -> None:
    out = tmp_path / "signed.jpg"
    assert cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, env=_env(studio)).code == 0
    dev_anchors = str(studio.ws.path(TRUST_ANCHORS))
    env = _env(studio, GENAI_PROVENANCE_TRUST_ANCHORS=dev_anchors)
    res = cli_process("verify", out, "--format", "json", env=env)
    assert _status(res)[0] == "valid-untrusted"  # the environment's anchors replaced the file's
    res = cli_process("verify", out, "--format", "json", "--trust-anchors", studio.ws.home / "prod-root.pem", env=env)
    assert _status(res)[0] == "trusted"  # the flag wins over the environment


def test_config_flag_on_the_subcommand_replaces_the_global_one(
    studio: Studio, cli_process: Any, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("tsa_ulr = 'typo'\n")
    good = studio.config(tmp_path / "good.toml", ocsp='mode = "off"')
    (tmp_path / "prod-root.pem").write_bytes(studio.ca.root_pem)
    (tmp_path / "tsa-root.pem").write_bytes(studio.tsa.root_pem)
    out = tmp_path / "signed.jpg"
    args = ["sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--format", "json"]
    res = cli_process("--config", broken, *args, "--config", good, env=_env(studio))
    assert res.code == 0, res.stderr
    assert res.json()["signer_revocation"] is None  # mode off: no OCSP request made
    res = cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--force", env=_env(studio))
    assert res.code == 0 and f"signing certificate: good at OCSP responder {studio.ca.url}" in res.stdout
    res = cli_process("--config", broken, *args, "--force", env=_env(studio))
    assert res.code == 2 and res.error_lines == [f"{ERROR_PREFIX}{broken}: (top level): unknown field 'tsa_ulr'"]


def test_revoked_signing_certificate_is_refused(studio: Studio, cli_process: Any, tmp_path: Path) -> None:
    leaf = studio.ca.issue("Studio Signer (compromised)")
    studio.ca.revoke(leaf)
    config = studio.config(tmp_path / "revoked.toml", leaf)
    shutil.copy(studio.ws.home / "prod-root.pem", tmp_path)
    shutil.copy(studio.ws.home / "tsa-root.pem", tmp_path)
    out = tmp_path / "signed.jpg"
    res = cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--config", config, env=_env(studio))
    assert res.code == 1, res.stderr
    assert len(res.error_lines) == 1 and "signing certificate is revoked since" in res.stderr
    assert not out.exists() and leftovers(tmp_path) == []


def test_unreachable_or_rogue_responder_refuses_to_sign(studio: Studio, cli_process: Any, tmp_path: Path) -> None:
    shutil.copy(studio.ws.home / "prod-root.pem", tmp_path)
    shutil.copy(studio.ws.home / "tsa-root.pem", tmp_path)
    out = tmp_path / "signed.jpg"
    closed = f"http://127.0.0.1:{free_port()}/"
    config = studio.config(tmp_path / "closed.toml", studio.ca.issue("Studio Signer B", url=closed))
    res = cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--config", config, env=_env(studio))
    assert res.code == 2 and len(res.error_lines) == 1
    assert f"OCSP responder {closed} could not be reached" in res.stderr and not out.exists()
    with running_ocsp(tmp_path / "rogue", "Rogue Root CA") as rogue:  # answers "good" for anything it is asked
        rogue.issue("Rogue Signer")
        config = studio.config(
            tmp_path / "rogue.toml", extra="", ocsp=f'mode = "require"\nresponder_url = "{rogue.url}"'
        )
        res = cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--config", config, env=_env(studio))
    assert res.code == 2 and len(res.error_lines) == 1, res.stderr
    assert "issuer did not authorise; nothing was written" in res.stderr and not out.exists()
    assert leftovers(tmp_path) == []


def _ask(ca: OcspAuthority, leaf: Issued, nonce: bytes) -> bytes:
    request = (
        x509_ocsp.OCSPRequestBuilder()
        .add_certificate(leaf.cert, ca.root.cert, hashes.SHA256())
        .add_extension(x509.OCSPNonce(nonce), critical=False)
        .build()
    )
    return ca.answer(request.public_bytes(serialization.Encoding.DER))


def test_replayed_or_misdirected_answers_are_refused(studio: Studio) -> None:
    other = studio.ca.issue("Another Signer")
    answer = _ask(studio.ca, studio.leaf, b"n" * 16)
    good = check_response(answer, studio.leaf.cert, studio.ca.root.cert, studio.ca.url, b"n" * 16)
    assert good.status == CertStatus.GOOD and good.nonce_checked
    with pytest.raises(SigningError, match="nonce is not the one asked for"):
        check_response(answer, studio.leaf.cert, studio.ca.root.cert, studio.ca.url, b"x" * 16)
    with pytest.raises(SigningError, match="not about the signing certificate"):
        check_response(answer, other.cert, studio.ca.root.cert, studio.ca.url, b"n" * 16)
    tampered = bytearray(answer)
    tampered[-5] ^= 0x01  # inside the signature
    with pytest.raises(SigningError):
        check_response(bytes(tampered), studio.leaf.cert, studio.ca.root.cert, studio.ca.url, b"n" * 16)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[signer\n", "not a valid TOML file"),
        ('[trust]\nanchor = "x.pem"\n', "trust: unknown field 'anchor'"),
        ('[ocsp]\nmode = "sometimes"\n', "ocsp.mode: 'sometimes' is not allowed"),
        ('tsa_url = "ftp://tsa"\n', "tsa_url:"),
        ('[signer]\ncert = "c.pem"\n', "signer:"),
        ('[signer]\ncert = "c.pem"\nkey = "k.pem"\n[signer.pkcs11]\ntoken = "t"\nkey_label = "k"\n', "signer:"),
    ],
)
def test_malformed_config_is_one_line_naming_file_and_key(
    text: str, message: str, cli_process: Any, studio: Studio, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    out = tmp_path / "signed.jpg"
    res = cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--config", config, env=_env(studio))
    assert res.code == 2 and len(res.error_lines) == 1, res.stderr
    assert res.stderr.startswith(f"{ERROR_PREFIX}{config}: ") and message in res.stderr
    assert not out.exists()


def test_missing_config_file_is_an_error_not_the_defaults(cli_process: Any, studio: Studio, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    res = cli_process("verify", PLATE, env=_env(studio, GENAI_PROVENANCE_CONFIG=str(missing)))
    assert res.code == 2 and str(missing) in res.stderr and len(res.error_lines) == 1


def test_plain_text_pin_needs_an_owner_only_file(cli_process: Any, studio: Studio, tmp_path: Path) -> None:
    config = tmp_path / "hsm.toml"
    config.write_text('[signer]\ncert = "c.pem"\n[signer.pkcs11]\ntoken = "t"\nkey_label = "k"\npin = "1234"\n')
    os.chmod(config, 0o644)
    res = cli_process("sign", PLATE, "-o", tmp_path / "o.jpg", "--disclosure", DISCLOSURE, "--config", config)
    assert res.code == 2 and "signer.pkcs11.pin" in res.stderr and "chmod 600" in res.stderr
    assert "1234" not in res.stderr


def test_policy_and_ledger_come_from_the_profile(
    studio: Studio, cli_process: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    import genai_provenance.policy

    policy = tmp_path / "studio-policy.json"
    doc = yaml.safe_load((Path(genai_provenance.policy.__file__).parent / "default.yaml").read_text())
    doc["name"] = "Studio Profile Policy"
    policy.write_text(json.dumps(doc))
    config = tmp_path / "c.toml"
    config.write_text(f'policy = "{policy.name}"\nledger = "elsewhere.sqlite"\n')
    res = cli_process("check", PLATE, "--format", "json", "--config", config, env=_env(studio))
    assert res.json()["policy"]["name"] == "Studio Profile Policy", res.stdout
    res = cli_process("check", PLATE, "--format", "json", "--config", config, "--policy", "default", env=_env(studio))
    assert res.json()["policy"]["name"] != "Studio Profile Policy"  # the flag wins
    from genai_provenance.settings import ledger_location, use_config

    use_config(config)
    try:
        location = ledger_location(studio.ws.home)
        assert location is not None and location.target == str(tmp_path / "elsewhere.sqlite")
        monkeypatch.setenv("GENAI_PROVENANCE_LEDGER", str(tmp_path / "env.sqlite"))
        location = ledger_location(studio.ws.home)
        assert location is not None and location.target == str(tmp_path / "env.sqlite")
    finally:
        use_config(None)


def test_independent_strict_reader_finds_a_trusted_time_stamp_and_stapled_revocation(
    studio: Studio, cli_process: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """encypher-c2pa's conformance check (C2PA conformance program SHALLs) on a profile-signed file:
    a trusted time-stamp, and the signer's OCSP answer stapled into the signature (rVals/ocspVals)."""
    import encypher_c2pa as encypher  # a test dependency (pyproject [test]): a missing one fails, never skips

    monkeypatch.setenv("HOME", str(tmp_path))  # telemetry=False is saved as a preference under ~/.config
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    out = tmp_path / "signed.jpg"
    res = cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--format", "json", env=_env(studio))
    assert res.code == 0 and res.json()["signer_revocation"]["stapled"] is True, res.stderr
    anchors, tsa = studio.ca.root_pem.decode(), studio.tsa.root_pem.decode()
    kwargs: dict[str, Any] = {"trust_pem": anchors, "tsa_trust_pem": tsa, "no_default_trust": True, "telemetry": False}
    strict = encypher.verify(str(out), strict_conformance=True, **kwargs)
    assert strict["integrity"] == "valid"
    assert strict["trust"]["status"] == "valid_for_supplied_material"
    assert strict["validation_results"]["failure"] == [], strict["validation_results"]["failure"]
    stapled = _stapled_answer(out)
    assert x509_ocsp.load_der_ocsp_response(stapled).certificate_status == x509_ocsp.OCSPCertStatus.GOOD
    assert x509_ocsp.load_der_ocsp_response(stapled).serial_number == studio.leaf.cert.serial_number
    assert _status(cli_process("verify", out, "--format", "json", env=_env(studio)))[0] == "trusted"


def _stapled_answer(path: Path) -> bytes:
    """The OCSP answer in the active manifest's COSE signature, as an independent reader finds it."""
    data = path.read_bytes()
    at = data.rindex(b"c2pa.signature\x00")
    cbor_at = data.index(b"cbor", at) + 4
    cose = cbor2.CBORDecoder(io.BytesIO(data[cbor_at:])).decode()
    return bytes(cose.value[1]["rVals"]["ocspVals"][0])


def test_a_stapled_answer_is_read_by_c2pa_itself(studio: Studio, cli_process: Any, tmp_path: Path) -> None:
    """What the staple carries is not decoration: a *revoked* answer stapled into a file signed
    without OCSP (by hand, as an attacker or a broken tool might) makes c2pa's own reader fail it."""
    leaf = studio.ca.issue("Studio Signer (revoked later)")
    config = studio.config(tmp_path / "off.toml", leaf, ocsp='mode = "off"')
    shutil.copy(studio.ws.home / "prod-root.pem", tmp_path)
    shutil.copy(studio.ws.home / "tsa-root.pem", tmp_path)
    out = tmp_path / "signed.jpg"
    res = cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--config", config, env=_env(studio))
    assert res.code == 0, res.stderr
    args = ["verify", out, "--format", "json", "--config", config]
    assert _status(cli_process(*args, env=_env(studio)))[0] == "trusted"
    studio.ca.revoke(leaf)
    issuer = x509.load_pem_x509_certificate(studio.ca.root_pem)
    request = x509_ocsp.OCSPRequestBuilder().add_certificate(leaf.cert, issuer, hashes.SHA1()).build()
    answer = studio.ca.answer(request.public_bytes(serialization.Encoding.DER))
    assert x509_ocsp.load_der_ocsp_response(answer).certificate_status == x509_ocsp.OCSPCertStatus.REVOKED
    size = out.stat().st_size
    staple_ocsp(out, answer)
    assert out.stat().st_size == size and _stapled_answer(out) == answer
    res = cli_process(*args, env=_env(studio))
    assert res.code == 1, res.stdout
    asset = res.json()["assets"][0]
    assert asset["status"] == "invalid", asset
    assert any("revoked" in f["code"] for f in asset["failures"]), asset["failures"]


def test_stapling_refuses_what_it_cannot_do_and_changes_nothing(tmp_path: Path) -> None:
    unsigned = tmp_path / "plain.jpg"
    shutil.copy(PLATE, unsigned)
    before = sha256(unsigned)
    with pytest.raises(StapleError, match="no C2PA signature"):
        staple_ocsp(unsigned, b"\x30\x03\x0a\x01\x00")
    assert sha256(unsigned) == before


def _organisation(folder: Path, name: str) -> tuple[Path, Path]:
    root = create_root(f"{name} Identity Root", name)
    files = write_identity(folder, issue_leaf(root, f"{name} (organisation identity)", name), root)
    return files.cert, files.key


def test_organisation_identity_is_a_cawg_identity_assertion(studio: Studio, cli_process: Any, tmp_path: Path) -> None:
    cert, key = _organisation(tmp_path / "org", "Profile Studio Ltd")
    config = studio.config(
        tmp_path / "org.toml",
        ocsp='mode = "off"',
        extra=f'[identity]\norganisation = "Profile Studio Ltd"\ncert = "{cert}"\nkey = "{key}"\n',
    )
    shutil.copy(studio.ws.home / "prod-root.pem", tmp_path)
    shutil.copy(studio.ws.home / "tsa-root.pem", tmp_path)
    out = tmp_path / "signed.jpg"
    res = cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--config", config, env=_env(studio))
    assert res.code == 0, res.stderr
    res = cli_process("verify", out, "--format", "json", "--config", config, env=_env(studio))
    [asset] = res.json()["assets"]
    assert asset["status"] == "trusted" and asset["signer"]["common_name"] == SIGNER_CN
    [who] = asset["identities"]
    assert who["sig_type"] == "cawg.x509.cose" and who["verified"] is True
    assert who["name"] == "Profile Studio Ltd (organisation identity)" and who["manifest"] == asset["active_manifest"]
    payload = _identity_payload(out)
    urls = {r["url"].rsplit("/", 1)[-1] for r in payload["referenced_assertions"]}
    assert {"com.genai-provenance.disclosure", "c2pa.actions.v2", "c2pa.hash.data"} <= urls


def test_organisation_must_be_the_one_its_certificate_names(studio: Studio, cli_process: Any, tmp_path: Path) -> None:
    cert, key = _organisation(tmp_path / "org", "Someone Else Ltd")
    config = tmp_path / "org.toml"
    config.write_text(f'[identity]\norganisation = "Profile Studio Ltd"\ncert = "{cert}"\nkey = "{key}"\n')
    out = tmp_path / "signed.jpg"
    res = cli_process("sign", PLATE, "-o", out, "--disclosure", DISCLOSURE, "--config", config, env=_env(studio))
    assert res.code == 2 and len(res.error_lines) == 1
    assert "identity.organisation 'Profile Studio Ltd' is not the organisation its certificate names" in res.stderr
    assert not out.exists()


def _identity_payload(path: Path) -> dict[str, Any]:
    import c2pa

    with open(path, "rb") as fh:
        store = json.loads(c2pa.Reader("image/jpeg", fh).json())
    manifest = store["manifests"][store["active_manifest"]]
    [assertion] = [a for a in manifest["assertions"] if a["label"].startswith("cawg.identity")]
    payload: dict[str, Any] = assertion["data"]["signer_payload"]
    return payload


def test_one_process_asks_the_responder_once_for_many_files(studio: Studio, tmp_path: Path) -> None:
    """A batch worker signs many frames under one verified answer, not one request per frame."""
    from genai_provenance.credentials import ocsp as signer_ocsp

    leaf = studio.ca.issue("Studio Signer (batch)")
    chain = leaf.cert_pem() + studio.ca.root_pem
    before = studio.ca.requests
    first = signer_ocsp.require_good(chain, None, 10)
    again = signer_ocsp.require_good(chain, None, 10)
    assert again is first and studio.ca.requests == before + 1
    assert first.this_update.replace(microsecond=0) < dt.datetime.now(dt.UTC).replace(microsecond=0)
    other = studio.ca.issue("Studio Signer (another)")
    signer_ocsp.require_good(other.cert_pem() + studio.ca.root_pem, None, 10)
    assert studio.ca.requests == before + 2  # another certificate is asked about on its own


@pytest.mark.parametrize("name", ["plate.mp4", "plate.exr", "plate_prores.mov"])
def test_the_answer_is_stapled_into_video_and_sidecar_manifests(
    name: str, studio: Studio, cli_process: Any, tmp_path: Path
) -> None:
    """MP4 (BMFF, embedded), EXR (a sidecar hashed by us) and a ProRes master signed as a sidecar."""
    source = tmp_path / name
    shutil.copy(MEDIA / name, source)
    before = sha256(source)
    args = ["sign", source, "--disclosure", DISCLOSURE, "--format", "json"]
    out = source.with_name(source.name + ".c2pa") if name != "plate.mp4" else tmp_path / "signed.mp4"
    args += ["--sidecar"] if name.endswith(".mov") else ["-o", out] if name == "plate.mp4" else []
    res = cli_process(*args, env=_env(studio))
    assert res.code == 0 and res.json()["signer_revocation"]["stapled"] is True, res.stderr
    answer = x509_ocsp.load_der_ocsp_response(_stapled_answer(out))
    assert answer.certificate_status == x509_ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == studio.leaf.cert.serial_number
    target = out if name == "plate.mp4" else source
    assert _status(cli_process("verify", target, "--format", "json", env=_env(studio)))[0] == "trusted"
    assert sha256(source) == before
