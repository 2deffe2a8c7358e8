"""The organisation's identity as a CAWG identity assertion (sig_type cawg.x509.cose).

c2pa-python 0.38.1 does not wrap the native `c2pa_identity_signer_create`; it is reached here with
ctypes through the wrapper's own handles (c2pa-python is pinned to that version: tests/test_profile.py
signs and reads back a real assertion, so a wrapper change that breaks this fails the suite). The
function consumes the claim signer and the identity signer and returns one signer that adds a
`cawg.identity` assertion signed with the organisation's X.509 credential, binding the hard binding,
the actions and our disclosure assertion.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import c2pa
from c2pa import c2pa as native
from cryptography import x509
from cryptography.x509.oid import NameOID

from genai_provenance.credentials.genai_scan import DISCLOSURE_LABEL
from genai_provenance.credentials.identity import Identity, SigningIdentity, name_attr
from genai_provenance.errors import IdentityError, SigningError

# What the organisation vouches for, besides the hard binding c2pa-rs always references.
REFERENCED = ("c2pa.actions.v2", DISCLOSURE_LABEL)

_SignerPtr = ctypes.POINTER(native.C2paSigner)


def _strings(values: tuple[str, ...]) -> ctypes.Array[ctypes.c_char_p]:
    """A NULL-terminated array of C strings."""
    return (ctypes.c_char_p * (len(values) + 1))(*[v.encode() for v in values], None)


def combine(claim: c2pa.Signer, credential: c2pa.Signer) -> c2pa.Signer:
    """One signer: `claim` signs the manifest, `credential` signs a cawg.identity assertion. Both are consumed."""
    create = native._lib.c2pa_identity_signer_create
    create.argtypes = [_SignerPtr, _SignerPtr, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p)]
    create.restype = _SignerPtr
    refs, roles = _strings(REFERENCED), _strings(())
    pointer = create(claim._handle, credential._handle, refs, roles)
    if not pointer:
        raise SigningError("the C2PA library refused to make the organisation identity signer")
    callback = getattr(claim, "_callback_cb", None)  # a token signer's callback must outlive the native signer
    claim._teardown(free_handle=False)
    credential._teardown(free_handle=False)
    combined = c2pa.Signer(pointer)
    combined._callback_cb = callback
    return combined


@dataclass(frozen=True)
class OrganisationSigner:
    """A signing identity whose manifests also carry the organisation's CAWG identity assertion."""

    claim: SigningIdentity
    credential: Identity = field(repr=False)
    organisation: str

    @property
    def chain_pem(self) -> bytes:
        return self.claim.chain_pem

    @property
    def alg(self) -> str:
        return self.claim.alg

    @property
    def certificate(self) -> x509.Certificate:
        return self.claim.certificate

    @property
    def tsa_url(self) -> str | None:
        return self.claim.tsa_url

    @property
    def subject(self) -> str:
        return self.claim.subject

    def signer(self) -> c2pa.Signer:
        return combine(self.claim.signer(), self.credential.signer())

    @contextmanager
    def signing(self) -> Iterator[c2pa.Signer]:
        with self.claim.signing() as signer:
            yield combine(signer, self.credential.signer())


def with_organisation(
    claim: SigningIdentity, credential: Identity, organisation: str, source: str
) -> OrganisationSigner:
    """Refuse a credential whose certificate names another organisation (O=) than the one configured."""
    named = name_attr(credential.certificate.subject, NameOID.ORGANIZATION_NAME)
    if named != organisation:
        raise IdentityError(
            f"{source}: identity.organisation {organisation!r} is not the organisation its certificate names "
            f"({named!r})"
        )
    return OrganisationSigner(claim, credential, organisation)
