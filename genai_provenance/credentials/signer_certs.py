"""The certificate chain each manifest was signed with, read from its COSE signature.

c2pa-python's reports give only a certificate summary (subject, issuer, serial), not the
certificate itself, so fingerprints and EKUs cannot come from them. The manifest store is taken
from the sidecar, or (embedded) from a c2pa Builder archive holding the file as an ingredient,
which carries every manifest of the file's store unchanged. Each manifest's `c2pa.signature` box
holds a COSE_Sign1 whose protected header (covered by the signature c2pa verified) names the
chain, `x5chain` (label 33). Only the protected header is read.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path

import c2pa
import cbor2
from cryptography import x509

X5CHAIN = 33
COSE_SIGN1_TAG = 18
SIGNATURE_LABEL = "c2pa.signature"


class StoreError(ValueError):
    """The manifest store cannot be read this way."""


def _boxes(buf: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", buf[offset : offset + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", buf[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise StoreError("JUMBF box runs past its container")
        yield kind, offset + header, offset + size
        offset += size


def _label(buf: bytes, start: int, end: int) -> str | None:
    for kind, s, e in _boxes(buf, start, end):
        if kind != b"jumd" or e - s < 17:
            return None
        if buf[s + 16] & 0x02:
            stop = buf.index(b"\0", s + 17, e)
            return buf[s + 17 : stop].decode("utf-8", "replace")
        return None
    return None


def _superboxes(buf: bytes, start: int, end: int) -> Iterator[tuple[str | None, int, int]]:
    for kind, s, e in _boxes(buf, start, end):
        if kind == b"jumb":
            yield _label(buf, s, e), s, e


def _chain_of(buf: bytes, start: int, end: int) -> list[x509.Certificate] | None:
    for kind, s, e in _boxes(buf, start, end):
        if kind != b"cbor":
            continue
        cose = cbor2.loads(buf[s:e])
        if isinstance(cose, cbor2.CBORTag):
            if cose.tag != COSE_SIGN1_TAG:
                return None
            cose = cose.value
        if not isinstance(cose, list | tuple) or len(cose) != 4 or not isinstance(cose[0], bytes):
            return None
        protected = cbor2.loads(cose[0]) if cose[0] else {}
        chain = protected.get(X5CHAIN) if isinstance(protected, Mapping) else None
        ders = chain if isinstance(chain, list | tuple) else [chain]
        if not ders or not all(isinstance(d, bytes) for d in ders):
            return None
        return [x509.load_der_x509_certificate(d) for d in ders if isinstance(d, bytes)]
    return None


def chains_from_store(store: bytes) -> dict[str, list[x509.Certificate]]:
    """Manifest label -> signing chain (leaf first), for every manifest in a JUMBF manifest store."""
    found: dict[str, list[x509.Certificate]] = {}
    for top, s, e in _superboxes(store, 0, len(store)):
        if top != "c2pa":
            continue
        for label, ms, me in _superboxes(store, s, e):
            for part, ps, pe in _superboxes(store, ms, me):
                if label and part == SIGNATURE_LABEL:
                    chain = _chain_of(store, ps, pe)
                    if chain:
                        found.setdefault(label, chain)
    return found


def signing_chains(
    path: Path, mime: str, context: c2pa.Context, manifest_data: bytes | None = None
) -> dict[str, list[x509.Certificate]]:
    """Every manifest's signing chain for one file; raises StoreError when it cannot be read."""
    try:
        if manifest_data is not None:
            return chains_from_store(manifest_data)
        builder = c2pa.Builder({"claim_generator_info": [{"name": "genai-provenance"}]}, context=context)
        with builder, open(path, "rb") as stream:
            builder.add_ingredient({"title": path.name, "relationship": "parentOf"}, mime, stream)
            archive = io.BytesIO()
            builder.to_archive(archive)
        return chains_from_store(archive.getvalue())
    except (OSError, ValueError, c2pa.C2paError, cbor2.CBORDecodeError, struct.error) as exc:
        raise StoreError(f"cannot read the signing certificates ({' '.join(str(exc).split())})") from None
