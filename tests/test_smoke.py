from __future__ import annotations

from genai_provenance.demo import run_demo


def test_demo_runs_end_to_end(tmp_path):
    result = run_demo(tmp_path)
    assert result.ok, [s.title for s in result.steps if not s.ok]
    assert result.steps[-1].reports[0].status == "invalid"
