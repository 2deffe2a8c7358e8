"""Embedded signing (c2pa's own route) reports through c2pa's native progress callback, counts the bytes c2pa
reads, and stops on Ctrl-C leaving nothing behind (credentials/native_progress.py). Real ffmpeg MP4, real
c2pa signing, real SIGINT."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
import pytest
from conftest import CLI_COMMAND, DISCLOSURES, leftovers, needs_ffmpeg, run_on_terminal, sha256

from genai_provenance.credentials.identity import Identity
from genai_provenance.credentials.native_progress import REPORT_EVERY, SignPhase, SignStage, interrupt_after_c2pa
from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.credentials.sign_asset import SignRequest, SignResult, sign_asset
from genai_provenance.model.provenance import TRUSTED
from genai_provenance.workspace import Workspace

pytestmark = needs_ffmpeg()


@pytest.fixture(scope="module")
def big_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few MB of lossless H.264 noise: many of c2pa's 8 KiB reads, several of our 1 MiB reports."""
    path = tmp_path_factory.mktemp("media") / "noise.mp4"
    source = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=24:duration=0.5", "-vf", "noise=alls=40:allf=t"]
    lossless = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"]
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *source, *lossless, str(path)], check=True)
    assert path.stat().st_size > 4 * REPORT_EVERY
    return path


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Exceptions Python had to drop ("Exception ignored", e.g. raised inside a ctypes callback)."""
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    return seen


def _sign(
    src: Path,
    out: Path | None,
    identity: Identity,
    trust: TrustSettings,
    progress: Callable[[int], None],
    on_stage: Callable[[SignStage], None] | None = None,
    *,
    sidecar: bool = False,
) -> SignResult:
    request = SignRequest(
        src, out, DISCLOSURES / "plate.json", identity, trust, sidecar=sidecar, progress=progress, on_stage=on_stage
    )
    return sign_asset(request)


def test_embedded_sign_reports_c2pas_phases_and_the_bytes_it_read(
    big_mp4: Path, identity: Identity, trust: TrustSettings, tmp_path: Path
) -> None:
    before = sha256(big_mp4)
    reads: list[int] = []
    stages: list[SignStage] = []
    out = tmp_path / "signed.mp4"
    result = _sign(big_mp4, out, identity, trust, reads.append, stages.append)
    size = big_mp4.stat().st_size
    running = [sum(reads[: i + 1]) for i in range(len(reads))]
    assert len(reads) >= 4 and all(n > 0 for n in reads), "several reports, each of bytes read"
    assert running[-1] == size, "the bytes reported reach the input's size, and never pass it"
    hashing = [s for s in stages if s.phase is SignPhase.HASHING]
    assert hashing and hashing[-1].done == hashing[-1].total > 1, "c2pa's hashing steps reach their total"
    phases = [s.phase for s in stages]
    assert phases.index(SignPhase.COPYING) < phases.index(SignPhase.HASHING) < phases.index(SignPhase.SIGNING)
    written = [s.done for s in stages if s.unit == "bytes"]
    assert written == sorted(written) and written[-1] >= size, "the whole signed copy was written, and counted"
    assert result.report.status == TRUSTED
    assert verify_file(out, trust.context(), mime="video/mp4").status == TRUSTED
    assert sha256(big_mp4) == before


def test_a_bmff_sidecar_reports_the_bytes_c2pa_read(
    big_mp4: Path, identity: Identity, trust: TrustSettings, tmp_path: Path
) -> None:
    src = tmp_path / big_mp4.name
    src.write_bytes(big_mp4.read_bytes())
    reads: list[int] = []
    result = _sign(src, None, identity, trust, reads.append, sidecar=True)
    assert result.sidecar and result.report.status == TRUSTED
    assert sum(reads) == src.stat().st_size


def test_ctrl_c_during_an_embedded_sign_stops_it_and_leaves_nothing(
    big_mp4: Path, identity: Identity, trust: TrustSettings, tmp_path: Path, unraisable: list[Any]
) -> None:
    """Before: c2pa-python's read callback swallowed the KeyboardInterrupt ("Exception ignored") and signing
    carried on to write the output. Now Ctrl-C cancels c2pa at its next read, and is raised once it returned."""
    before = sha256(big_mp4)
    reads: list[int] = []

    def interrupt_early(count: int) -> None:
        reads.append(count)
        if len(reads) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, 2 MiB into c2pa's read of the input

    out = tmp_path / "out" / "signed.mp4"
    with pytest.raises(KeyboardInterrupt):
        _sign(big_mp4, out, identity, trust, interrupt_early)
    assert len(reads) == 2 and sum(reads) < big_mp4.stat().st_size, "c2pa stopped at its next read"
    assert not out.exists() and leftovers(out.parent) == []
    assert sha256(big_mp4) == before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "the Ctrl-C handler is put back"
    assert unraisable == [], "no exception was dropped inside a callback"


def test_a_failing_progress_display_never_crosses_into_c2pa(
    big_mp4: Path, identity: Identity, trust: TrustSettings, tmp_path: Path, unraisable: list[Any]
) -> None:
    """An exception in the display (called from c2pa's native callback) stops the sign and is raised as it is."""

    def broken_display(stage: SignStage) -> None:
        if stage.phase is SignPhase.HASHING:
            raise RuntimeError("display broke")

    out = tmp_path / "out" / "signed.mp4"
    with pytest.raises(RuntimeError, match="display broke"):
        _sign(big_mp4, out, identity, trust, lambda _n: None, broken_display)
    assert not out.exists() and leftovers(out.parent) == []
    assert unraisable == [], "no exception was dropped inside a callback"


def test_embedded_sign_on_a_terminal_shows_c2pas_phase_and_bytes(
    big_mp4: Path, workspace: Workspace, tmp_path: Path
) -> None:
    """On a terminal (a real pty) the embedded sign shows a stage line and the bytes read of the input's size."""
    out = tmp_path / "signed.mp4"
    cmd = [*CLI_COMMAND, "sign", str(big_mp4), "-o", str(out), "--disclosure", str(DISCLOSURES / "plate.json")]
    run = run_on_terminal([*cmd, "--home", str(workspace.home)])
    assert run.code == 0
    text = run.terminal
    size = big_mp4.stat().st_size
    from rich import filesize

    assert "signing" in text and f"of {filesize.decimal(size)}" in text, text[-2000:]
    assert out.is_file()


class _InterruptingReader(io.RawIOBase):
    """A file whose first read sends a real SIGINT (or `signum`), landing inside c2pa-python's read callback."""

    def __init__(self, path: Path, signum: int = signal.SIGINT) -> None:
        super().__init__()
        self._raw, self.sent, self._signum = path.open("rb"), False, signum

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.sent:
            self.sent = True
            os.kill(os.getpid(), self._signum)
        return self._raw.readinto(buffer)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()
        super().close()


def test_c2pa_python_swallows_a_ctrl_c_in_its_read_callback(
    sign_media: Callable[..., SignResult], unraisable: list[Any]
) -> None:
    """The upstream behaviour the deferral works around (c2pa-python 0.38.1): the Reader returns normally."""
    signed = sign_media("plate.jpg").output
    with _InterruptingReader(signed) as stream:
        reader = c2pa.Reader("image/jpeg", stream)
        assert stream.sent and reader.json()
    assert [type(u.exc_value) for u in unraisable] == [KeyboardInterrupt]


def test_a_ctrl_c_inside_a_c2pa_reader_is_raised_once_it_returns(
    sign_media: Callable[..., SignResult], unraisable: list[Any]
) -> None:
    """sign_asset reads its input, parent and output back with c2pa Readers inside interrupt_after_c2pa."""
    signed = sign_media("plate.jpg").output
    returned = False
    with pytest.raises(KeyboardInterrupt), interrupt_after_c2pa(), _InterruptingReader(signed) as stream:
        c2pa.Reader("image/jpeg", stream)
        returned = True
    assert returned, "the Reader finished; the Ctrl-C came after it"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert unraisable == [], "no exception was dropped inside a callback"


def test_sigterm_inside_a_c2pa_reader_is_raised_once_it_returns_as_ctrl_c_is(
    sign_media: Callable[..., SignResult], unraisable: list[Any]
) -> None:
    """`sign FOLDER|PATTERN` turns SIGTERM into an interrupt. Raised straight from its handler, it landed inside
    c2pa-python's read callback, was dropped there, and signing carried on."""
    from genai_provenance.cli.sign_batch import _sigterm_as_interrupt

    signed = sign_media("plate.jpg").output
    returned = False
    with (
        pytest.raises(KeyboardInterrupt),
        _sigterm_as_interrupt(),
        interrupt_after_c2pa(),
        _InterruptingReader(signed, signal.SIGTERM) as stream,
    ):
        c2pa.Reader("image/jpeg", stream)
        returned = True
    assert returned, "the Reader finished; the interrupt came after it"
    assert unraisable == [], "no exception was dropped inside a callback"
