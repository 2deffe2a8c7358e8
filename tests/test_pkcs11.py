"""Signing with a key that lives in a PKCS#11 token: a real SoftHSM2 token made in a temporary folder.

The keys are generated inside the token; their certificates are issued by the workspace's
development root for the public keys the token reports. The user PIN travels only in
$GENAI_PROVENANCE_PKCS11_PIN.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import DISCLOSURES, ERROR_PREFIX, MEDIA, disclosure, leftovers, sha256, write_identity
from cryptography.hazmat.primitives import serialization
from tsa import running_tsa

from genai_provenance.credentials.hsm import DEFAULT_MODULE, ENV_PIN, TokenIdentity, TokenKey, load_token_identity
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.errors import IdentityError, ProvenanceError
from genai_provenance.model.provenance import TRUSTED
from genai_provenance.trust.pki import Issued, certify_public_key, create_root, issue_leaf
from genai_provenance.workspace import Workspace

pytestmark = pytest.mark.skipif(
    shutil.which("softhsm2-util") is None or not DEFAULT_MODULE.is_file(),
    reason=f"SoftHSM2 is not installed (softhsm2-util, {DEFAULT_MODULE}); apt-get install softhsm2",
)

TOKEN = "post-house-hsm"
PIN = "4711-soft-pin"
SO_PIN = "9922-so-pin"
DISCLOSURE = DISCLOSURES / "bg_replace.json"

# Keys generated in the token: label -> (id, curve, keep the public key object).
KEYS = {
    "media-signing": ("01", "secp256r1", True),
    "second-key": ("02", "secp256r1", True),
    "no-public-object": ("03", "secp256r1", False),
    "doomed": ("04", "secp256r1", True),
    "p384-signing": ("05", "secp384r1", True),
}

# Runs in its own process (SOFTHSM2_CONF set there): EC key pairs made IN the token, public keys out.
_KEYGEN = """
import json, sys
import pkcs11
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

module, token_label, pin, keys = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
out = {}
with pkcs11.lib(module).get_token(token_label=token_label).open(rw=True, user_pin=pin) as session:
    for label, (key_id, curve, keep_public) in keys.items():
        params = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(curve)}, local=True
        )
        public, _ = params.generate_keypair(store=True, label=label, id=bytes.fromhex(key_id))
        out[label] = encode_ec_public_key(public).hex()
        if not keep_public:
            public.destroy()
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Hsm:
    conf: Path
    chains: dict[str, Path]  # key label -> certificate chain for that key (leaf first)

    def env(self, pin: str | None = PIN) -> dict[str, str]:
        env = {"SOFTHSM2_CONF": str(self.conf)}
        if pin is not None:
            env[ENV_PIN] = pin
        return env

    def key(self, label: str) -> TokenKey:
        return TokenKey(TOKEN, label)


@pytest.fixture(scope="module")
def hsm(workspace: Workspace, dev_root: Issued, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hsm]:
    """A fresh SoftHSM2 token with EC keys made in it, and certificates for them from the dev root.

    SOFTHSM2_CONF is set for this module only; the module is unloaded afterwards, so a later
    load in this process reads its own configuration.
    """
    import pkcs11

    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {"SOFTHSM2_CONF": str(conf), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN],
        env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    made = subprocess.run(
        [sys.executable, "-c", _KEYGEN, str(DEFAULT_MODULE), TOKEN, PIN, json.dumps(KEYS)],
        env=env, check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    chains = {}
    for label, spki_hex in json.loads(made.stdout).items():
        public = serialization.load_der_public_key(bytes.fromhex(spki_hex))
        cert = certify_public_key(dev_root, public, f"HSM {label}", "Test Post House")
        chains[label] = folder / f"{label}.chain.pem"
        chains[label].write_bytes(cert.public_bytes(serialization.Encoding.PEM) + dev_root.cert_pem())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        mp.delenv(ENV_PIN, raising=False)
        yield Hsm(conf, chains)
        pkcs11.unload(str(DEFAULT_MODULE))


def _sign_args(hsm: Hsm, out: Path, key: str = "media-signing", chain: str | None = None) -> list[Any]:
    return [
        "sign", MEDIA / "plate.jpg", "-o", out, "--disclosure", DISCLOSURE,
        "--cert", hsm.chains[chain or key], "--pkcs11-token", TOKEN, "--pkcs11-key", key,
    ]  # fmt: skip


def _one_line_error(res: Any) -> str:
    assert res.code == 2, (res.stdout, res.stderr)
    assert len(res.error_lines) == 1 and res.stderr.startswith(ERROR_PREFIX), res.stderr
    assert PIN not in res.stdout + res.stderr
    return res.stderr


# --------------------------------------------------------------------------- the CLI, as a real process


def test_cli_signs_with_the_token_and_verify_trusts_it(
    hsm: Hsm, cli_process: Any, workspace: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "signed.jpg"
    before = sha256(MEDIA / "plate.jpg")
    res = cli_process(*_sign_args(hsm, out), "--home", workspace.home, env=hsm.env())
    assert res.code == 0, res.stderr
    assert PIN not in res.stdout + res.stderr
    assert sha256(MEDIA / "plate.jpg") == before

    res = cli_process("verify", out, "--home", workspace.home, "--format", "json", env=hsm.env(pin=None))
    assert res.code == 0, res.stdout
    asset = res.json()["assets"][0]
    assert asset["status"] == TRUSTED
    assert asset["signer"]["common_name"] == "HSM media-signing"
    declared = [d["disclosure"] for d in asset["disclosures"] if d["manifest"] == asset["active_manifest"]]
    assert declared == [disclosure("bg_replace.json")]


def test_profile_signs_with_the_token_pin_from_the_named_variable(
    hsm: Hsm, cli_process: Any, workspace: Workspace, tmp_path: Path
) -> None:
    """config.toml [signer.pkcs11] with pin_env: `sign IN --disclosure F` and nothing else."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[signer]\ncert = "{hsm.chains["media-signing"]}"\n[signer.pkcs11]\ntoken = "{TOKEN}"\n'
        f'key_label = "media-signing"\nmodule = "{DEFAULT_MODULE}"\npin_env = "STUDIO_HSM_PIN"\n'
    )
    out = tmp_path / "signed.jpg"
    args = ["sign", MEDIA / "plate.jpg", "-o", out, "--disclosure", DISCLOSURE, "--config", config]
    res = cli_process(*args, "--home", workspace.home, env=hsm.env(pin=None))
    assert "$STUDIO_HSM_PIN, which is not set" in _one_line_error(res) and not out.exists()
    env = {**hsm.env(pin=None), "STUDIO_HSM_PIN": PIN}
    res = cli_process(*args, "--home", workspace.home, "--format", "json", env=env)
    assert res.code == 0, res.stderr
    assert PIN not in res.stdout + res.stderr
    assert res.json()["asset"]["signer"]["common_name"] == "HSM media-signing"
    res = cli_process(*args, "--home", workspace.home, "--force", env={**env, ENV_PIN: "0000-wrong"})
    assert "wrong PIN" in _one_line_error(res)  # $GENAI_PROVENANCE_PKCS11_PIN overrides the file's variable

    # The organisation's CAWG identity on top of a token-held claim key (the token's callback must outlive
    # the native signer that combines the two).
    root = create_root("Org Identity Root", "Token Studio Ltd")
    org = write_identity(tmp_path / "org", issue_leaf(root, "Token Studio Ltd", "Token Studio Ltd"), root)
    with config.open("a") as fh:
        fh.write(f'[identity]\norganisation = "Token Studio Ltd"\ncert = "{org.cert}"\nkey = "{org.key}"\n')
    res = cli_process(*args, "--home", workspace.home, "--force", env=env)
    assert res.code == 0, res.stderr
    res = cli_process("verify", out, "--home", workspace.home, "--format", "json", env=hsm.env(pin=None))
    [asset] = res.json()["assets"]
    assert asset["status"] == TRUSTED and asset["signer"]["common_name"] == "HSM media-signing"
    assert [(i["name"], i["verified"]) for i in asset["identities"]] == [("Token Studio Ltd", True)]


def test_cli_wrong_pin_is_one_line_and_writes_nothing(
    hsm: Hsm, cli_process: Any, workspace: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "signed.jpg"
    res = cli_process(*_sign_args(hsm, out), "--home", workspace.home, env=hsm.env(pin="0000-wrong"))
    err = _one_line_error(res)
    assert f"token '{TOKEN}'" in err and "wrong PIN" in err and "0000-wrong" not in err
    assert not out.exists() and leftovers(tmp_path) == []


# --------------------------------------------------------------------------- the CLI's refusals (in process)


@pytest.mark.parametrize(
    ("key", "chain", "pin", "expected"),
    [
        ("second-key", "media-signing", PIN, f"does not match key 'second-key' in PKCS#11 token '{TOKEN}'"),
        ("no-public-object", "media-signing", PIN, f"does not match key 'no-public-object' in PKCS#11 token '{TOKEN}'"),
        ("absent-key", "media-signing", PIN, f"PKCS#11 token '{TOKEN}': no private key 'absent-key'"),
        ("media-signing", None, None, f"set {ENV_PIN} to the user PIN"),
    ],
    ids=["key-cert-mismatch", "mismatch-proved-by-signing", "unknown-key", "missing-pin"],
)
def test_cli_refusals(
    hsm: Hsm,
    cli: Any,
    workspace: Workspace,
    tmp_path: Path,
    key: str,
    chain: str | None,
    pin: str | None,
    expected: str,
) -> None:
    out = tmp_path / "signed.jpg"
    res = cli(*_sign_args(hsm, out, key, chain), "--home", workspace.home, env=hsm.env(pin))
    assert expected in _one_line_error(res)
    assert not out.exists() and leftovers(tmp_path) == []


def test_cli_unknown_token_names_the_tokens_there(hsm: Hsm, cli: Any, workspace: Workspace, tmp_path: Path) -> None:
    args = _sign_args(hsm, tmp_path / "signed.jpg")
    args[args.index(TOKEN)] = "no-such-hsm"
    err = _one_line_error(cli(*args, "--home", workspace.home, env=hsm.env()))
    assert "no PKCS#11 token labelled 'no-such-hsm'" in err and f"'{TOKEN}'" in err


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--key", "KEYFILE"], "--key and --pkcs11-token are mutually exclusive"),
        (["--pkcs11-key-id", "zz"], "not a hexadecimal key id"),
        (["--pkcs11-module", "/nonexistent/libnothing.so"], "/nonexistent/libnothing.so: PKCS#11 module not found"),
    ],
    ids=["with-key-file", "bad-key-id", "missing-module"],
)
def test_cli_option_errors(
    hsm: Hsm, cli: Any, workspace: Workspace, tmp_path: Path, extra: list[str], expected: str
) -> None:
    extra = [str(workspace.path("signer/key.pem")) if x == "KEYFILE" else x for x in extra]
    res = cli(*_sign_args(hsm, tmp_path / "signed.jpg"), *extra, "--home", workspace.home, env=hsm.env())
    assert expected in _one_line_error(res)


def test_cli_token_options_need_a_token(cli: Any, workspace: Workspace, tmp_path: Path) -> None:
    res = cli(
        "sign", MEDIA / "plate.jpg", "-o", tmp_path / "s.jpg", "--disclosure", DISCLOSURE,
        "--pkcs11-key", "media-signing", "--home", workspace.home,
    )  # fmt: skip
    assert "need --pkcs11-token" in _one_line_error(res)


# --------------------------------------------------------------------------- the library


def test_key_by_id_and_p384_key_sign_trusted(hsm: Hsm, trust: TrustSettings, tmp_path: Path) -> None:
    by_id = load_token_identity(TokenKey(TOKEN, key_id=b"\x01"), hsm.chains["media-signing"], pin=PIN)
    p384 = load_token_identity(hsm.key("p384-signing"), hsm.chains["p384-signing"], pin=PIN)
    assert (by_id.alg, p384.alg) == ("es256", "es384")
    for identity, name in [(by_id, "plate.png"), (p384, "plate.mp4")]:
        out = tmp_path / name
        result = sign_asset(SignRequest(MEDIA / name, out, DISCLOSURE, identity, trust))
        assert result.report.status == TRUSTED
        assert result.report.signer is not None and result.report.signer.common_name == identity.subject


def test_token_signature_with_a_time_stamp(hsm: Hsm, workspace: Workspace, tmp_path: Path) -> None:
    """The token-signed claim is time-stamped by a real RFC 3161 TSA on 127.0.0.1."""
    with running_tsa(tmp_path / "tsa") as tsa:
        identity = load_token_identity(hsm.key("media-signing"), hsm.chains["media-signing"], tsa.url, pin=PIN)
        trust = TrustSettings(workspace.trust_anchors() + tsa.root_pem.decode())
        result = sign_asset(SignRequest(MEDIA / "plate.jpg", tmp_path / "stamped.jpg", DISCLOSURE, identity, trust))
        assert tsa.requests >= 1
    assert result.report.status == TRUSTED and result.report.time_stamped


def test_pin_never_in_repr(hsm: Hsm) -> None:
    identity = load_token_identity(hsm.key("media-signing"), hsm.chains["media-signing"], pin=PIN)
    assert isinstance(identity, TokenIdentity)
    assert PIN not in repr(identity) and PIN not in str(identity)


def test_key_removed_after_loading_gives_the_tokens_error_not_coses(
    hsm: Hsm, trust: TrustSettings, tmp_path: Path
) -> None:
    """The sign callback fails inside c2pa; the token's own error comes out, and nothing is written."""
    import pkcs11

    identity = load_token_identity(hsm.key("doomed"), hsm.chains["doomed"], pin=PIN)
    with pkcs11.lib(str(DEFAULT_MODULE)).get_token(token_label=TOKEN).open(rw=True, user_pin=PIN) as session:
        session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="doomed").destroy()
    out = tmp_path / "signed.jpg"
    with pytest.raises(ProvenanceError) as caught:
        sign_asset(SignRequest(MEDIA / "plate.jpg", out, DISCLOSURE, identity, trust))
    assert f"PKCS#11 token '{TOKEN}': no private key 'doomed'" in str(caught.value)
    assert "COSE" not in str(caught.value)
    assert not out.exists() and leftovers(tmp_path) == []


def test_certificate_without_an_ec_key_is_refused(hsm: Hsm, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from genai_provenance.trust.pki import create_root

    root = create_root("Ed Root", "Ed Inc")
    cert = certify_public_key(root, ed25519.Ed25519PrivateKey.generate().public_key(), "Ed", "Ed Inc")
    chain = tmp_path / "ed.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(IdentityError, match="needs an EC P-256, P-384 or P-521 key"):
        load_token_identity(hsm.key("media-signing"), chain, pin=PIN)
