"""Sign with a key held in a PKCS#11 token (an HSM in production, SoftHSM2 for development).

The private key never leaves the token: c2pa hands the bytes to sign to a callback, which hashes
them here and has the token sign the digest (CKM_ECDSA, raw r||s). The user PIN comes from
$GENAI_PROVENANCE_PKCS11_PIN, never from the command line (it would show in `ps`), and is never
printed. A session is open only while the token signs.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import c2pa
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID

from genai_provenance.credentials.identity import check_certificate, load_certificates, name_attr
from genai_provenance.errors import IdentityError, ProvenanceError, SigningError

if TYPE_CHECKING:
    from pkcs11 import Session, Token

ENV_PIN = "GENAI_PROVENANCE_PKCS11_PIN"
DEFAULT_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")  # Debian's softhsm2 package

# Certificate curve -> C2PA algorithm, c2pa enum name, digest the token signs.
_CURVES: dict[str, tuple[str, str, type[hashes.HashAlgorithm]]] = {
    "secp256r1": ("es256", "ES256", hashes.SHA256),
    "secp384r1": ("es384", "ES384", hashes.SHA384),
    "secp521r1": ("es512", "ES512", hashes.SHA512),
}

# Login state is shared by every session an application has with a token: one login at a time.
_TOKEN_LOCK = threading.Lock()

_SPKI = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo


@dataclass(frozen=True)
class TokenKey:
    """Where a key lives: the PKCS#11 module, the token's label, the key's label and/or id."""

    token_label: str
    key_label: str | None = None
    key_id: bytes | None = None
    module: Path = DEFAULT_MODULE

    @property
    def key_name(self) -> str:
        return f"'{self.key_label}'" if self.key_label is not None else f"id {(self.key_id or b'').hex()}"

    def describe(self) -> str:
        return f"key {self.key_name} in PKCS#11 token '{self.token_label}'"


def token_key(
    token_label: str | None, key_label: str | None, key_id_hex: str | None, module: Path | None
) -> TokenKey | None:
    """The --pkcs11-* options as a TokenKey (None when no token was named); refuse incomplete sets."""
    if token_label is None:
        if key_label is not None or key_id_hex is not None or module is not None:
            raise IdentityError("--pkcs11-key, --pkcs11-key-id and --pkcs11-module need --pkcs11-token LABEL")
        return None
    if key_label is None and key_id_hex is None:
        raise IdentityError(f"PKCS#11 token '{token_label}': name the key with --pkcs11-key LABEL or --pkcs11-key-id")
    key_id = None
    if key_id_hex is not None:
        try:
            key_id = bytes.fromhex(key_id_hex.removeprefix("0x"))
        except ValueError:
            raise IdentityError(f"--pkcs11-key-id {key_id_hex!r}: not a hexadecimal key id (e.g. 01 or a1b2)") from None
        if not key_id:
            raise IdentityError("--pkcs11-key-id: empty key id")
    return TokenKey(token_label, key_label, key_id, module or DEFAULT_MODULE)


@dataclass(frozen=True)
class TokenIdentity:
    """A signing identity whose private key stays in a PKCS#11 token. The PIN never appears in repr."""

    key: TokenKey
    chain_pem: bytes
    alg: str
    certificate: x509.Certificate = field(repr=False)
    pin: str = field(repr=False)
    tsa_url: str | None = None

    @property
    def subject(self) -> str:
        return name_attr(self.certificate.subject, NameOID.COMMON_NAME) or self.certificate.subject.rfc4514_string()

    def signer(self) -> c2pa.Signer:
        """A c2pa signer whose callback signs in the token (a failure shows only as c2pa's own error)."""
        return self._signer(_Callback(self))

    @contextmanager
    def signing(self) -> Iterator[c2pa.Signer]:
        """A signer for one `Builder.sign`; if the token failed, its error replaces c2pa's."""
        callback = _Callback(self)
        try:
            yield self._signer(callback)
        except c2pa.C2paError:
            if callback.error is not None:
                raise callback.error from None
            raise
        if callback.error is not None:
            raise callback.error

    def _signer(self, callback: _Callback) -> c2pa.Signer:
        alg = getattr(c2pa.C2paSigningAlg, _CURVES[_curve(self.certificate)][1])
        return c2pa.Signer.from_callback(callback, alg, self.chain_pem.decode(), self.tsa_url)

    def sign_digest(self, data: bytes) -> bytes:
        """Hash `data` here, sign the digest in the token; raw r||s."""
        digest = _digest(self.certificate, data)
        with _session(self.key, self.pin) as session:
            return bytes(_private_key(session, self.key).sign(digest, mechanism=_p11().Mechanism.ECDSA))


class _Callback:
    """The c2pa sign callback: never raises into c2pa (which would only say "COSE signature invalid")."""

    def __init__(self, identity: TokenIdentity) -> None:
        self.identity = identity
        self.error: ProvenanceError | None = None

    def __call__(self, data: bytes) -> bytes:
        try:
            return self.identity.sign_digest(data)
        except ProvenanceError as exc:
            self.error = exc
        except Exception as exc:
            self.error = SigningError(f"{self.identity.key.describe()}: the token failed to sign ({_why(exc)})")
        return b""  # c2pa's wrapper turns an empty signature into a failed sign, quietly


def load_token_identity(
    key: TokenKey, chain_path: Path, tsa_url: str | None = None, pin: str | None = None
) -> TokenIdentity:
    """Check the chain, log in to the token, find the key and prove it matches the leaf certificate.

    `pin` defaults to $GENAI_PROVENANCE_PKCS11_PIN.
    """
    certs = load_certificates(chain_path)
    leaf = certs[0]
    check_certificate(leaf, chain_path)
    curve = _curve(leaf, chain_path)
    if pin is None:
        pin = os.environ.get(ENV_PIN)
    if not pin:
        raise IdentityError(
            f"PKCS#11 token '{key.token_label}': set {ENV_PIN} to the user PIN (it is never taken on the command line)"
        )
    with _session(key, pin) as session:
        private = _private_key(session, key)
        _check_matches(session, private, key, leaf, chain_path)
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)
    return TokenIdentity(key, chain, _CURVES[curve][0], leaf, pin, tsa_url)


# --------------------------------------------------------------------------- token access


def _p11() -> ModuleType:
    try:
        import pkcs11
    except ImportError:
        raise IdentityError("signing with a PKCS#11 token needs python-pkcs11 (pip install python-pkcs11)") from None
    return pkcs11


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


def _token(key: TokenKey) -> Token:
    p11 = _p11()
    if not key.module.is_file():
        raise IdentityError(f"{key.module}: PKCS#11 module not found (--pkcs11-module)")
    try:
        lib = p11.lib(str(key.module))
    except p11.PKCS11Error as exc:
        raise IdentityError(f"{key.module}: cannot load the PKCS#11 module ({_why(exc)})") from None
    try:
        token: Token = lib.get_token(token_label=key.token_label)
        return token
    except p11.NoSuchToken:
        labels = []
        with suppress(p11.PKCS11Error):
            labels = sorted(t.label for t in lib.get_tokens() if t.label)  # skip free, uninitialised slots
        known = f" (tokens: {', '.join(repr(x) for x in labels)})" if labels else " (no initialised tokens)"
        raise IdentityError(f"{key.module}: no PKCS#11 token labelled '{key.token_label}'{known}") from None
    except p11.MultipleTokensReturned:
        raise IdentityError(f"{key.module}: several PKCS#11 tokens are labelled '{key.token_label}'") from None
    except p11.PKCS11Error as exc:
        raise IdentityError(f"{key.module}: cannot list PKCS#11 tokens ({_why(exc)})") from None


@contextmanager
def _session(key: TokenKey, pin: str) -> Iterator[Session]:
    """A logged-in read-only session, closed (and logged out) on leaving."""
    p11 = _p11()
    token = _token(key)
    where = f"PKCS#11 token '{key.token_label}'"
    with _TOKEN_LOCK:
        try:
            session = token.open(user_pin=pin)
        except p11.PinIncorrect:
            raise IdentityError(f"{where}: wrong PIN (from {ENV_PIN})") from None
        except p11.PinLocked:
            raise IdentityError(f"{where}: the user PIN is locked") from None
        except (p11.PinLenRange, p11.PinInvalid, p11.PinExpired) as exc:
            raise IdentityError(f"{where}: PIN refused ({_why(exc)})") from None
        except p11.UserPinNotInitialized:
            raise IdentityError(f"{where}: the token's user PIN is not initialised") from None
        except p11.PKCS11Error as exc:
            raise IdentityError(f"{where}: cannot log in ({_why(exc)})") from None
        try:
            yield session
        finally:
            with suppress(p11.PKCS11Error):
                session.close()


def _search(key: TokenKey) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if key.key_label is not None:
        found["label"] = key.key_label
    if key.key_id is not None:
        found["id"] = key.key_id
    return found


def _private_key(session: Session, key: TokenKey) -> Any:
    p11 = _p11()
    where = f"PKCS#11 token '{key.token_label}'"
    try:
        private = session.get_key(object_class=p11.ObjectClass.PRIVATE_KEY, **_search(key))
    except p11.NoSuchKey:
        raise IdentityError(f"{where}: no private key {key.key_name}") from None
    except p11.MultipleObjectsReturned:
        hint = " (add --pkcs11-key-id)" if key.key_id is None else ""
        raise IdentityError(f"{where}: several private keys match {key.key_name}{hint}") from None
    except p11.PKCS11Error as exc:
        raise IdentityError(f"{where}: cannot look up key {key.key_name} ({_why(exc)})") from None
    if private.key_type != p11.KeyType.EC:
        raise IdentityError(f"{key.describe()}: not an EC key; tokens sign here with ECDSA only")
    return private


def _token_public_key(session: Session, private: Any, key: TokenKey) -> bytes | None:
    """SPKI DER of the token's public key object for this key, when the token holds one."""
    p11 = _p11()
    search = _search(key)
    with suppress(p11.PKCS11Error, KeyError):
        key_id = private[p11.Attribute.ID]
        if key_id:
            search = {"id": bytes(key_id)}
    try:
        public = session.get_key(object_class=p11.ObjectClass.PUBLIC_KEY, **search)
        der = p11.util.ec.encode_ec_public_key(public)
        return serialization.load_der_public_key(der).public_bytes(*_SPKI)
    except (p11.PKCS11Error, ValueError, TypeError):
        return None  # no (single, parseable) public key object: the signature check below decides


def _check_matches(session: Session, private: Any, key: TokenKey, leaf: x509.Certificate, chain_path: Path) -> None:
    """Refuse a certificate whose public key is not the token key's: compare SPKI, then prove by signing."""
    p11 = _p11()
    mismatch = IdentityError(f"{chain_path}: certificate does not match {key.describe()}")
    leaf_key = leaf.public_key()
    if not isinstance(leaf_key, ec.EllipticCurvePublicKey):  # already refused by _curve
        raise mismatch
    spki = _token_public_key(session, private, key)
    if spki is not None and spki != leaf_key.public_bytes(*_SPKI):
        raise mismatch
    challenge = _digest(leaf, os.urandom(32))
    try:
        raw = bytes(private.sign(challenge, mechanism=p11.Mechanism.ECDSA))
    except p11.PKCS11Error as exc:
        raise IdentityError(f"{key.describe()}: the token cannot sign with it ({_why(exc)})") from None
    half = len(raw) // 2
    der = utils.encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    try:
        leaf_key.verify(der, challenge, ec.ECDSA(utils.Prehashed(_CURVES[_curve(leaf)][2]())))
    except InvalidSignature:
        raise mismatch from None


def _curve(cert: x509.Certificate, path: Path | None = None) -> str:
    public = cert.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name not in _CURVES:
        where = f"{path}: " if path else ""
        raise IdentityError(
            f"{where}a PKCS#11 signing certificate needs an EC P-256, P-384 or P-521 key (signed with CKM_ECDSA)"
        )
    return public.curve.name


def _digest(cert: x509.Certificate, data: bytes) -> bytes:
    return hashlib.new(_CURVES[_curve(cert)][2]().name, data).digest()
