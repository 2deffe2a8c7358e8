"""The data-hashed signing route (credentials/native.py): the bundled libc2pa_c.so has the symbols, and a
sidecar signed over our own hashlib hash is validated as trusted by c2pa's own Reader, with tampering caught."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import threading
from importlib.metadata import version
from pathlib import Path

import c2pa
import pytest
from conftest import DISCLOSURES

from genai_provenance.credentials import digest, native_progress
from genai_provenance.credentials.digest import hash_file
from genai_provenance.credentials.formats import SIDECAR_ANY_MIME
from genai_provenance.credentials.native import SYMBOLS, DataHash, missing_symbols
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.readback import verify_store
from genai_provenance.credentials.sign_asset import SignRequest, data_hashed, plan_output, sign_asset
from genai_provenance.workspace import Workspace

PINNED = "0.38.1"


def test_pinned_c2pa_python_has_the_data_hashed_symbols() -> None:
    assert version("c2pa-python") == PINNED, "native.py was checked against this version: check it again"
    assert missing_symbols() == []
    assert "c2pa_builder_sign_data_hashed_embeddable" in SYMBOLS


def test_pinned_c2pa_python_has_the_progress_callback() -> None:
    """Embedded signing's progress and Ctrl-C go through c2pa's native progress callback (not in the wrapper)."""
    assert version("c2pa-python") == PINNED, "native_progress.py was checked against this version: check it again"
    assert native_progress.missing_symbols() == []
    assert "c2pa_context_builder_set_progress_callback" in native_progress.SYMBOLS


def test_hash_file_reads_in_chunks_and_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    data = os.urandom(3 * 1024 + 17)
    path.write_bytes(data)
    seen: list[int] = []
    result = hash_file(path, seen.append, chunk=1024)
    assert result.digest == hashlib.sha256(data).digest()
    assert seen == [1024, 1024, 1024, 17]


def test_large_files_are_read_by_a_second_thread_and_hashed_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipelined path (files from PIPELINE_FROM up; lowered here) gives hashlib's digest, reports every
    byte once, and leaves no reader thread behind, also when the caller's progress display raises."""
    monkeypatch.setattr(digest, "PIPELINE_FROM", 0)
    path = tmp_path / "master.bin"
    data = os.urandom(3 * 1024 * 1024 + 5)
    path.write_bytes(data)
    seen: list[int] = []
    readers_seen: list[bool] = []

    def progress(size: int) -> None:
        seen.append(size)
        readers_seen.append(_reader_alive())

    result = hash_file(path, progress, chunk=64 * 1024)
    assert result.digest == hashlib.sha256(data).digest()
    assert sum(seen) == len(data) and len(seen) == len(data) // (64 * 1024) + 1
    assert readers_seen[0], "the file is read by a second thread"
    assert not _reader_alive(), "and it is joined before hash_file returns"

    def interrupted(size: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        hash_file(path, interrupted, chunk=64 * 1024)
    assert not _reader_alive()


def _reader_alive() -> bool:
    return any(t.name == "genai-provenance-read" and t.is_alive() for t in threading.enumerate())


def _hard_binding(store: bytes, asset: bytes, context: c2pa.Context) -> tuple[str, dict[str, object]]:
    reader = c2pa.Reader(SIDECAR_ANY_MIME, io.BytesIO(asset), store, context=context)
    doc = json.loads(reader.detailed_json())
    manifest = doc["manifests"][doc["active_manifest"]]
    return doc["validation_state"], manifest["assertion_store"]["c2pa.hash.data"]


@pytest.mark.parametrize("name", ["A001C003.ari", "plate.exr"])
def test_data_hashed_sidecar_is_trusted_by_c2pas_reader_and_catches_tampering(
    name: str, workspace: Workspace, trust: TrustSettings, tmp_path: Path
) -> None:
    asset = tmp_path / name
    magic = b"\x76\x2f\x31\x01" if name.endswith(".exr") else b""  # EXR's magic number: its content is checked
    asset.write_bytes(magic + os.urandom(200_000))
    request = SignRequest(asset, None, DISCLOSURES / "plate.json", workspace.identity(None), trust)
    assert data_hashed(plan_output(asset, None, False)), "a sidecar of a non-BMFF file takes the data-hashed route"
    result = sign_asset(request)
    store = result.output.read_bytes()
    context = trust.context()
    state, binding = _hard_binding(store, asset.read_bytes(), context)
    assert state == "Trusted"
    assert binding["name"] == "jumbf manifest" and binding["alg"] == "sha256"
    assert base64.b64decode(str(binding["hash"])) == hashlib.sha256(asset.read_bytes()).digest()
    changed = bytearray(asset.read_bytes())
    changed[100_000] ^= 0x01
    state, _ = _hard_binding(store, bytes(changed), context)
    assert state == "Invalid"


def test_bmff_sidecar_stays_with_c2pa(tmp_path: Path) -> None:
    """MP4/MOV sidecars are bound by c2pa's BMFF box hash: c2pa reads them itself."""
    assert not data_hashed(plan_output(tmp_path / "x.mp4", None, True))
    assert not data_hashed(plan_output(tmp_path / "x.jpg", tmp_path / "y.jpg", False))  # embedded
    assert data_hashed(plan_output(tmp_path / "x.jpg", None, True))


def test_read_back_without_a_second_read_sets_aside_only_a_matching_hash(
    workspace: Workspace, trust: TrustSettings, tmp_path: Path
) -> None:
    """The read-back trusts the data hash only when the signed binding is exactly the hash we read; anything
    else c2pa finds still fails (a changed store, another file's hash, an untrusted signer)."""
    asset = tmp_path / "reel.ari"
    asset.write_bytes(os.urandom(100_000))
    result = sign_asset(SignRequest(asset, None, DISCLOSURES / "plate.json", workspace.identity(None), trust))
    store = result.output.read_bytes()
    context = trust.context()
    ours = hash_file(asset)
    assert verify_store(store, ours, SIDECAR_ANY_MIME, context, "reel.ari").status == "trusted"
    other = DataHash("sha256", hashlib.sha256(b"another file").digest())
    report = verify_store(store, other, SIDECAR_ANY_MIME, context, "reel.ari")
    assert report.status == "invalid" and "assertion.dataHash.mismatch" in {f.code for f in report.failures}
    assert verify_store(store, ours, SIDECAR_ANY_MIME, c2pa.Context(), "reel.ari").status == "valid-untrusted"
    claim = store.find(b"c2pa.actions")
    forged = bytearray(store)
    forged[claim + 40] ^= 0x01  # inside the signed assertion store
    report = verify_store(bytes(forged), ours, SIDECAR_ANY_MIME, context, "reel.ari")
    assert report.status == "invalid"
