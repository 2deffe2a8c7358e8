"""Stapling an OCSP answer into a COSE_Sign1 keeps its exact encoded length (the file's layout and
hashes depend on it), at every size of padding, and refuses what it cannot do."""

from __future__ import annotations

from pathlib import Path

import cbor2
import pytest

from genai_provenance.credentials.staple import COSE_SIGN1_TAG, StapleError, restapled


def _cose(unprotected: dict[str, object]) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [b"\xa1\x01&", unprotected, None, b"s" * 64]))


@pytest.mark.parametrize("reserved", [23, 24, 255, 256, 1000, 9475, 65535, 65536])
@pytest.mark.parametrize("answer", [1, 20, 250, 893])
def test_same_length_at_every_padding_size(reserved: int, answer: int) -> None:
    original = _cose({"sigTst2": {"tstTokens": [{"val": b"t" * 40}]}, "pad": bytes(reserved)})
    if answer + 20 > reserved:
        with pytest.raises(StapleError, match="does not fit"):
            restapled(original, b"\x30" * answer)
        return
    stapled = restapled(original, b"\x30" * answer)
    assert len(stapled) == len(original)
    headers = cbor2.loads(stapled).value[1]
    assert list(headers["rVals"]["ocspVals"]) == [b"\x30" * answer]
    assert headers["sigTst2"]["tstTokens"][0]["val"] == b"t" * 40  # the time-stamp is kept
    assert cbor2.loads(stapled).value[3] == b"s" * 64  # the signature bytes are untouched


def test_refuses_a_signature_without_padding_or_already_stapled() -> None:
    with pytest.raises(StapleError, match="no pad header"):
        restapled(_cose({}), b"\x30")
    with pytest.raises(StapleError, match="already carries"):
        restapled(_cose({"rVals": {"ocspVals": [b"x"]}, "pad": bytes(100)}), b"\x30")
    with pytest.raises(StapleError, match="not a COSE_Sign1"):
        restapled(cbor2.dumps([1, 2]), b"\x30")


def test_a_file_without_a_signature_is_refused_unchanged(tmp_path: Path) -> None:
    from genai_provenance.credentials.staple import staple_ocsp

    empty, other = tmp_path / "empty.c2pa", tmp_path / "other.bin"
    empty.write_bytes(b"")
    other.write_bytes(b"c2pa.signature\x00 but no content box after it" + bytes(100))
    with pytest.raises(StapleError, match="empty"):
        staple_ocsp(empty, b"\x30")
    before = other.read_bytes()
    with pytest.raises(StapleError, match="not where the JUMBF layout"):
        staple_ocsp(other, b"\x30")
    assert other.read_bytes() == before
