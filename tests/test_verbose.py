"""`--verbose` shows the exception behind an error (for a bug report); without it, one line only."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from genai_provenance.cli import main


def test_verbose_shows_the_underlying_exception(tmp_path: Path) -> None:
    missing = tmp_path / "absent.jpg"
    quiet = CliRunner().invoke(main, ["verify", str(missing)])
    assert quiet.exit_code == 2 and "Traceback" not in quiet.stderr
    assert quiet.stderr.strip() == f"genai-provenance: error: {missing}: no such file or folder"
    loud = CliRunner().invoke(main, ["--verbose", "verify", str(missing)])
    assert loud.exit_code == 2
    assert "Traceback (most recent call last)" in loud.stderr and "InputError" in loud.stderr
    assert loud.stderr.rstrip().endswith(f"genai-provenance: error: {missing}: no such file or folder")
