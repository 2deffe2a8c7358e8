"""A real CAWG identity assertion: c2pa's native `c2pa_identity_signer_create`, reached with ctypes.

c2pa-python 0.38.1 does not wrap it. The function takes the claim signer and the identity signer
(both consumed) and returns one signer that adds a `cawg.identity` assertion (sig_type
cawg.x509.cose) signed with the identity's X.509 credential.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import c2pa
from c2pa import c2pa as native

from genai_provenance.credentials.identity import Identity

_SignerPtr = ctypes.POINTER(native.C2paSigner)


def identity_signer(claim: Identity, identity: Identity) -> c2pa.Signer:
    """One c2pa.Signer: `claim` signs the manifest, `identity` signs a cawg.identity assertion."""
    create = native._lib.c2pa_identity_signer_create
    create.argtypes = [_SignerPtr, _SignerPtr, ctypes.c_void_p, ctypes.c_void_p]
    create.restype = _SignerPtr
    first, second = claim.signer(), identity.signer()
    pointer = create(first._handle, second._handle, None, None)
    if not pointer:
        raise RuntimeError("c2pa_identity_signer_create failed")
    first._teardown(free_handle=False)  # both were consumed by the native call
    second._teardown(free_handle=False)
    return c2pa.Signer(pointer)


def sign_with_identity(
    definition: dict[str, Any], source: Path, out: Path, claim: Identity, identity: Identity
) -> Path:
    builder = c2pa.Builder(definition)
    with builder, open(source, "rb") as src, open(out, "w+b") as dst:
        builder.sign(identity_signer(claim, identity), "image/jpeg", src, dst)
    return out
