"""The data-hashed signing functions of the libc2pa_c.so bundled with c2pa-python, reached with ctypes.

c2pa-python does not expose them: with them a sidecar is signed over a hash we computed (one read of
the asset with hashlib, in large chunks) instead of c2pa reading the whole asset again. The claim's
hard binding is the same `c2pa.hash.data` assertion c2pa writes itself for a sidecar: the whole file,
no exclusions, named "jumbf manifest".
"""

from __future__ import annotations

import ctypes
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import c2pa

from genai_provenance.errors import SigningError

# The symbols this module calls; tests pin that the bundled library has them.
SYMBOLS = (
    "c2pa_builder_data_hashed_placeholder",
    "c2pa_builder_sign_data_hashed_embeddable",
    "c2pa_builder_set_data_hash_exclusions",
    "c2pa_signer_reserve_size",
    "c2pa_error",
    "c2pa_free",
)
RAW_STORE = b"application/c2pa"  # ask for the manifest store itself, not a format's embedding of it
SIDECAR_HASH_NAME = "jumbf manifest"  # the name c2pa gives a sidecar's whole-file data hash


@dataclass(frozen=True)
class DataHash:
    """A whole-file hash computed by the caller (no exclusions: a sidecar leaves the asset untouched)."""

    alg: str  # "sha256"
    digest: bytes

    def to_json(self) -> bytes:
        doc = {"name": SIDECAR_HASH_NAME, "alg": self.alg, "hash": list(self.digest), "pad": [], "exclusions": []}
        return json.dumps(doc).encode()


def library_path() -> Path:
    return Path(c2pa.__file__).parent / "libs" / "libc2pa_c.so"


@functools.cache
def _lib() -> ctypes.CDLL:
    """Our own handle on the library c2pa-python loaded (its argtypes stay untouched)."""
    lib = ctypes.CDLL(str(library_path()))
    out = ctypes.POINTER(ctypes.c_void_p)
    lib.c2pa_builder_data_hashed_placeholder.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, out]
    lib.c2pa_builder_data_hashed_placeholder.restype = ctypes.c_int64
    lib.c2pa_builder_sign_data_hashed_embeddable.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_void_p,
        out,
    ]
    lib.c2pa_builder_sign_data_hashed_embeddable.restype = ctypes.c_int64
    lib.c2pa_signer_reserve_size.argtypes = [ctypes.c_void_p]
    lib.c2pa_signer_reserve_size.restype = ctypes.c_int64
    lib.c2pa_error.argtypes = []
    lib.c2pa_error.restype = ctypes.c_void_p
    lib.c2pa_free.argtypes = [ctypes.c_void_p]
    lib.c2pa_free.restype = ctypes.c_int
    return lib


def missing_symbols(symbols: tuple[str, ...] = SYMBOLS) -> list[str]:
    """The `symbols` the bundled library lacks (empty for the pinned c2pa-python)."""
    lib = ctypes.CDLL(str(library_path()))
    return [name for name in symbols if not hasattr(lib, name)]


def _last_error(lib: ctypes.CDLL) -> str:
    ptr = lib.c2pa_error()
    if not ptr:
        return "unknown error"
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        lib.c2pa_free(ptr)


def _take(lib: ctypes.CDLL, size: int, ptr: ctypes.c_void_p, what: str) -> bytes:
    if size < 0 or not ptr.value:
        raise SigningError(f"{what} failed ({' '.join(_last_error(lib).split())})")
    try:
        return ctypes.string_at(ptr.value, size)
    finally:
        lib.c2pa_free(ptr.value)


def _handle(obj: object, what: str) -> int:
    handle = getattr(obj, "_handle", None)
    if not handle:
        raise SigningError(f"c2pa {what} is closed or of an unknown shape (c2pa-python changed?)")
    return int(ctypes.cast(handle, ctypes.c_void_p).value or 0)


def sign_data_hashed(builder: c2pa.Builder, signer: c2pa.Signer, data_hash: DataHash) -> bytes:
    """The signed manifest store for an asset whose whole-file hash is `data_hash` (the builder is spent)."""
    lib = _lib()
    b, s = _handle(builder, "builder"), _handle(signer, "signer")
    reserve = lib.c2pa_signer_reserve_size(s)
    if reserve < 0:
        raise SigningError(f"signer reserve size failed ({_last_error(lib)})")
    out = ctypes.c_void_p()
    _take(lib, lib.c2pa_builder_data_hashed_placeholder(b, reserve, RAW_STORE, ctypes.byref(out)), out, "placeholder")
    out = ctypes.c_void_p()
    size = lib.c2pa_builder_sign_data_hashed_embeddable(b, s, data_hash.to_json(), RAW_STORE, None, ctypes.byref(out))
    return _take(lib, size, out, "signing")
