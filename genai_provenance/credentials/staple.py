"""Staple the signer's OCSP answer into a just-signed manifest (C2PA `rVals`/`ocspVals`), in place.

c2pa-python cannot hand c2pa-rs an OCSP answer to put in the signature, but c2pa-rs reserves room
for it: the COSE_Sign1 signature carries an unsigned `pad` header of zeros (the C2PA specification's
way to add revocation information after signing). The unprotected header is not covered by the
signature, and the manifest store's place in the file is excluded from the hard binding, so replacing
`pad` by `rVals` plus a shorter `pad` of exactly the same encoded length changes no hash and no
signature: the file stays the same size and every other byte stays put.

The active manifest's signature is the last `c2pa.signature` box in the store. It is patched only
where its bytes are contiguous in the file (a JPEG may split the store across APP11 segments); when
it cannot be stapled, `staple_ocsp` says why and changes nothing.
"""

from __future__ import annotations

import io
import mmap
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cbor2

SIGNATURE_LABEL = b"c2pa.signature\x00"
COSE_SIGN1_TAG = 18
MAX_STORE_SCAN = 64 << 20  # the manifest store sits in the first or the last bytes of a file: never scan media


class StapleError(Exception):
    """The answer could not be stapled; nothing was changed."""


@dataclass(frozen=True)
class Stapled:
    offset: int  # where the signature's CBOR starts in the file
    length: int  # its encoded length, unchanged
    ocsp_bytes: int


def _signature_offset(store: mmap.mmap, start: int, end: int) -> int | None:
    """Offset of the CBOR of the last `c2pa.signature` box's content in store[start:end]; None if none."""
    label = store.rfind(SIGNATURE_LABEL, start, end)
    if label < 0:
        return None
    after = label + len(SIGNATURE_LABEL)
    box = store.find(b"cbor", after, after + 64)  # the content box right after the description box
    if box < 0:
        raise StapleError("the C2PA signature box is not where the JUMBF layout puts it")
    return box + 4


def _regions(size: int) -> list[tuple[int, int]]:
    """The parts of the file the manifest store can be in: its head and its tail (whole file when small)."""
    if size <= 2 * MAX_STORE_SCAN:
        return [(0, size)]
    return [(size - MAX_STORE_SCAN, MAX_STORE_SCAN), (0, MAX_STORE_SCAN)]


def restapled(encoded: bytes, ocsp_der: bytes) -> bytes:
    """The COSE_Sign1 `encoded` with `rVals: {ocspVals: [ocsp_der]}` and a `pad` that keeps its exact length."""
    try:
        cose = cbor2.loads(encoded)
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise StapleError(f"the C2PA signature is not contiguous CBOR here ({exc.__class__.__name__})") from None
    if not isinstance(cose, cbor2.CBORTag) or cose.tag != COSE_SIGN1_TAG or len(cose.value) != 4:
        raise StapleError("the C2PA signature is not a COSE_Sign1 structure")
    protected, unprotected, payload, signature = cose.value
    if not isinstance(unprotected, Mapping) or not isinstance(unprotected.get("pad"), bytes):
        raise StapleError("the signature reserves no room (no pad header) for revocation information")
    if "rVals" in unprotected:
        raise StapleError("the signature already carries revocation information")
    headers = {k: v for k, v in unprotected.items() if k != "pad"}
    headers["rVals"] = {"ocspVals": [ocsp_der]}

    def encoded_with(pad: int) -> bytes:
        return cbor2.dumps(
            cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {**headers, "pad": bytes(pad)}, payload, signature])
        )

    reserved = len(unprotected["pad"])
    estimate = reserved - (len(encoded_with(reserved)) - len(encoded))  # off by the pad's length header at most
    for pad in range(min(reserved, estimate + 4), max(-1, estimate - 5), -1):
        candidate = encoded_with(pad)
        if len(candidate) == len(encoded):
            return candidate
    raise StapleError(
        f"the OCSP answer ({len(ocsp_der)} bytes) does not fit the {len(unprotected['pad'])} bytes "
        "the signature reserves"
    )


def staple_ocsp(path: Path, ocsp_der: bytes) -> Stapled:
    """Write `ocsp_der` into the active manifest's signature in `path` (a staged output, never an input)."""
    size = path.stat().st_size
    if size == 0:  # mmap refuses an empty file
        raise StapleError("the signed output is empty")
    with open(path, "r+b") as fh, mmap.mmap(fh.fileno(), 0) as whole:
        for start, length in _regions(size):
            offset = _signature_offset(whole, start, start + length)  # searched in place: no copy of the media
            if offset is None:
                continue
            decoder = cbor2.CBORDecoder(io.BytesIO(whole[offset : offset + (1 << 20)]))
            try:
                decoder.decode()
            except (cbor2.CBORDecodeError, ValueError, EOFError) as exc:
                raise StapleError(
                    f"the C2PA signature is not contiguous CBOR here ({exc.__class__.__name__})"
                ) from None
            encoded = decoder.fp.tell()
            whole[offset : offset + encoded] = restapled(whole[offset : offset + encoded], ocsp_der)
            whole.flush()
            os.fsync(fh.fileno())
            return Stapled(offset, encoded, len(ocsp_der))
    raise StapleError("no C2PA signature found in the manifest store")
