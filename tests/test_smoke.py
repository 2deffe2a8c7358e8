from __future__ import annotations

from genai_provenance.demo import run_demo


def test_demo_runs_end_to_end(tmp_path):
    result = run_demo(tmp_path)
    assert result.ok, [s.title for s in result.steps if not s.ok]
    titles = [s.title for s in result.steps]
    tamper = next(s for s in result.steps if s.title.startswith("Flipped one byte"))
    assert tamper.reports[0].status == "invalid"
    blocked = next(s for s in result.steps if s.title.startswith("Tried to package"))
    assert any("GP-FINAL-001" in line for line in blocked.lines), blocked.lines
    assert titles[-1].startswith("Packaged the delivery")
