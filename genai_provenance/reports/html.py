"""`explain --html`: one self-contained HTML file (inline CSS, data: thumbnails, no network).

Every string that comes from a manifest is untrusted input and is escaped; class names and
colours come only from fixed tables here. A Content-Security-Policy forbids any load except
inline styles and data: images, so even a mistake cannot make the page reach the network.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from genai_provenance import __version__
from genai_provenance.errors import InputError
from genai_provenance.explain.model import Activity, Explanation, Stage
from genai_provenance.explain.wording import input_sentence
from genai_provenance.files import write_text
from genai_provenance.reports.explain_text import evidence_rows

# status -> (css class, short label); anything else is shown as "unknown"
_STATUS = {
    "trusted": ("ok", "Trusted"),
    "valid-untrusted": ("warn", "Signer not on trust list"),
    "invalid": ("bad", "Failed verification"),
    "no-credentials": ("none", "No credentials"),
    "unreadable": ("none", "Unreadable"),
    "unchecked": ("none", "Not checked"),
}
_GENAI = {
    "generative": ("genai", "Generative AI recorded"),
    "maybe": ("maybe", "May involve generative AI"),
}

CSS = """
:root { --ink:#1d232a; --muted:#5b6570; --line:#d5dbe1; --bg:#f5f7f9; --card:#fff;
  --ok:#1f7a3f; --ok-bg:#e3f4e8; --warn:#8a5a00; --warn-bg:#fff1d1; --bad:#a3222b; --bad-bg:#fde4e4;
  --none:#4d5660; --none-bg:#e9edf0; --ai:#5a2ea6; --ai-bg:#efe7fd; }
* { box-sizing: border-box; }
html { font: 15px/1.5 "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: var(--ink);
  background: var(--bg); }
body { margin: 0; }
main { max-width: 1060px; margin: 0 auto; padding: 28px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 17px; margin: 0; }
h4 { font-size: 13px; margin: 14px 0 4px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
p { margin: 6px 0; }
ul { margin: 4px 0; padding-left: 20px; }
li { margin: 3px 0; }
.filename { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 14px; color: var(--muted);
  overflow-wrap: anywhere; }
.summary { display: flex; gap: 20px; align-items: flex-start; background: var(--card); border: 1px solid var(--line);
  border-radius: 10px; padding: 18px; margin-top: 14px; }
.summary .facts { flex: 1; min-width: 0; }
.headline { font-size: 17px; font-weight: 600; margin: 0 0 10px; }
dl.facts-list { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
dl.facts-list dt { font-weight: 600; color: var(--muted); }
dl.facts-list dd { margin: 0; overflow-wrap: anywhere; }
.thumb { width: 180px; flex: none; margin: 0; }
.thumb figcaption { font-size: 11px; color: var(--muted); margin-top: 3px; }
.thumb img { display: block; max-width: 180px; max-height: 180px; border-radius: 6px; border: 1px solid var(--line);
  background: #fff; }
.thumb .nopic { width: 180px; height: 100px; display: flex; align-items: center; justify-content: center;
  border: 1px dashed var(--line); border-radius: 6px; color: var(--muted); font-size: 13px; text-align: center; }
.badge { display: inline-block; font-size: 12px; font-weight: 700; padding: 2px 9px; border-radius: 999px;
  border: 1px solid currentColor; white-space: nowrap; vertical-align: middle; }
.ok { color: var(--ok); } .badge.ok { background: var(--ok-bg); }
.warn { color: var(--warn); } .badge.warn { background: var(--warn-bg); }
.bad { color: var(--bad); } .badge.bad { background: var(--bad-bg); }
.none { color: var(--none); } .badge.none { background: var(--none-bg); }
.badge.genai { color: var(--ai); background: var(--ai-bg); }
.badge.maybe { color: var(--ai); background: #fff; border-style: dashed; }
.flow { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; list-style: none; padding: 0; margin: 12px 0 0; }
.flow li { display: flex; align-items: center; gap: 6px; margin: 0; }
.flow li + li::before { content: "\\2192"; color: var(--muted); font-size: 18px; }
.flow .chip { border: 2px solid currentColor; border-radius: 8px; padding: 4px 10px; background: var(--card);
  font-size: 13px; }
.flow .chip b { margin-right: 4px; }
ol.timeline { list-style: none; margin: 0; padding: 0; position: relative; }
ol.timeline::before { content: ""; position: absolute; left: 17px; top: 8px; bottom: 8px; width: 3px;
  background: var(--line); }
.stage { position: relative; padding-left: 52px; margin: 0 0 18px; }
.stage .marker { position: absolute; left: 0; top: 14px; width: 37px; height: 37px; border-radius: 50%;
  border: 3px solid currentColor; background: var(--card); display: flex; align-items: center;
  justify-content: center; font-weight: 700; }
.card { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--none);
  border-radius: 10px; padding: 14px 18px; color: var(--ink); }
.stage.ok .card { border-left-color: var(--ok); } .stage.warn .card { border-left-color: var(--warn); }
.stage.bad .card { border-left-color: var(--bad); }
.card-head { display: flex; gap: 16px; align-items: flex-start; }
.card-head .thumb, .card-head .thumb img { width: auto; max-width: 150px; max-height: 120px; }
.card-head .thumb .nopic { width: 150px; height: 84px; }
.card-head .titles { flex: 1; min-width: 0; }
.card-head .titles p { margin: 4px 0; }
.current { font-size: 12px; font-weight: 700; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
.activity { margin: 6px 0 10px; }
.activity .what { font-weight: 600; }
.activity .genai-mark { color: var(--ai); font-weight: 700; }
.activity ul { color: var(--ink); }
.clearance-valid { color: var(--ok); }
.clearance-problem { color: var(--bad); }
.clearance-unchecked { color: var(--warn); }
.problems { background: var(--bad-bg); border-radius: 6px; padding: 8px 12px; margin-top: 10px; color: var(--bad); }
.problems li { color: var(--ink); }
.limits { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 4px 20px 12px;
  margin-top: 22px; }
.limits h2 { margin-top: 12px; }
code, .label { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
.verdict { border-radius: 10px; padding: 12px 20px; margin: 14px 0 16px; border: 2px solid var(--bad);
  background: var(--bad-bg); }
.verdict.clear { border-color: var(--ok); background: var(--ok-bg); }
.verdict .verdict-line { font-size: 18px; font-weight: 700; color: var(--bad); margin: 2px 0 6px; }
.verdict.clear .verdict-line { color: var(--ok); }
.verdict li { color: var(--ink); }
.verdict .rule { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-weight: 700; color: var(--bad); }
.binding { color: var(--muted); font-size: 13px; }
.evidence dd { overflow-wrap: anywhere; }
@media print {
  @page { margin: 14mm; }
  html { background: #fff; font-size: 11pt; }
  main { max-width: none; padding: 0; }
  .summary, .card, .limits { border-color: #888; box-shadow: none; }
  .card, .summary, .limits li, .activity, .verdict { break-inside: avoid; page-break-inside: avoid; }
  .verdict { border-width: 3px; }
  ol.flow { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  ol.timeline::before { background: #888; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _slug(key: str) -> str:
    return key.lower().replace(" ", "-")


def _status(status: str) -> tuple[str, str]:
    return _STATUS.get(status, ("none", "Unknown"))


def _badge(status: str, words: str | None = None) -> str:
    css, label = _status(status)
    title = f' title="{_e(words)}"' if words else ""
    return f'<span class="badge {css}" data-status="{_e(status)}"{title}>{_e(label)}</span>'


def _genai_badge(kind: str) -> str:
    if kind not in _GENAI:
        return ""
    css, label = _GENAI[kind]
    return f' <span class="badge {css}">{_e(label)}</span>'


def _thumb(key: str | None, thumbnails: dict[str, bytes], alt: str, caption: str) -> str:
    data = thumbnails.get(key) if key else None
    if not data:
        return '<figure class="thumb"><div class="nopic">no picture recorded</div></figure>'
    uri = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return f'<figure class="thumb"><img src="{uri}" alt="{_e(alt)}"><figcaption>{_e(caption)}</figcaption></figure>'


def _list(items: list[str], css: str = "") -> str:
    if not items:
        return ""
    cls = f' class="{css}"' if css else ""
    return f"<ul{cls}>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def _clearance_class(status: str) -> str:
    if status == "valid":
        return "clearance-valid"
    return "clearance-unchecked" if status == "unchecked" else "clearance-problem"


def _activity(activity: Activity) -> str:
    mark = ""
    if activity.genai == "generative":
        mark = '<span class="genai-mark">[generative AI]</span> '
    elif activity.genai == "maybe":
        mark = '<span class="genai-mark">[may involve generative AI]</span> '
    extra = list(activity.details)
    extra += [input_sentence(i) for i in activity.inputs]
    if activity.data_handling:
        extra.append(activity.data_handling)
    items = "".join(f"<li>{_e(x)}</li>" for x in extra)
    for view in activity.consents + activity.approvals:
        items += (
            f'<li class="{_clearance_class(view.status)}" data-clearance="{_e(view.id)}" '
            f'data-clearance-status="{_e(view.status)}">{_e(view.sentence)}</li>'
        )
    body = f"<ul>{items}</ul>" if items else ""
    what = f'<p class="what">{mark}{_e(activity.summary)}</p>'
    return f'<div class="activity" data-genai="{_e(activity.genai)}">{what}{body}</div>'


def _stage(stage: Stage, total: int, thumbnails: dict[str, bytes]) -> str:
    css, _ = _status(stage.status)
    name = stage.title
    file_name = (
        f' <span class="filename">{_e(stage.file_name)}</span>'
        if stage.file_name and stage.file_name != stage.title
        else ""
    )
    current = '<p class="current">This stage produced the file you have</p>' if stage.current else ""
    alt = f"Thumbnail of stage {stage.number}"
    caption = "picture recorded in the credentials"
    head = (
        f'<div class="card-head">{_thumb(stage.thumbnail, thumbnails, alt, caption)}'
        f'<div class="titles">{current}<h3>Stage {stage.number} of {total}: <span class="stage-title">{_e(name)}</span>'
        f"{file_name}</h3><p>{_badge(stage.status, stage.status_words)}{_genai_badge(stage.genai)}</p>"
        f"<p>{_e(stage.status_words[:1].upper() + stage.status_words[1:])}.</p></div></div>"
    )
    parts = [head]
    if stage.kind == "no-credentials":
        parts.append(
            "<p>This asset carried no Content Credentials: nothing is recorded about who made it, when, or how.</p>"
        )
    facts = []
    if stage.signer:
        facts.append(("Who", stage.signer.sentence))
        facts.append(("Trust", stage.signer.why[0].upper() + stage.signer.why[1:] + "."))
    if stage.time:
        facts.append(("When", stage.time.sentence))
    if stage.generator:
        facts.append(("Written with", stage.generator))
    if stage.declared:
        facts.append(("Asset", " ".join(stage.declared)))
    if facts:
        parts.append(
            '<dl class="facts-list">'
            + "".join(f'<dt>{_e(k)}</dt><dd class="fact-{_slug(k)}">{_e(v)}</dd>' for k, v in facts)
            + "</dl>"
        )
    if stage.kind == "signed":
        parts.append("<h4>What was done</h4>" + "".join(_activity(a) for a in stage.activities))
    links = stage.ingredients + stage.used_by
    if links:
        parts.append("<h4>Inputs and uses</h4>" + _list(links))
    if stage.training_mining:
        prefs = [f"{k}: {v}" for k, v in stage.training_mining.items()]
        parts.append("<h4>Training and data-mining preferences</h4>" + _list(prefs))
    if stage.unknown_assertions:
        items = "".join(f'<li><code class="label">{_e(a)}</code></li>' for a in stage.unknown_assertions)
        parts.append(f"<h4>Other records, not interpreted by this tool</h4><ul>{items}</ul>")
    if stage.binding:
        parts.append(f'<p class="binding">{_e(stage.binding)}</p>')
    if stage.identities:
        parts.append(f"<p><strong>Identity</strong></p>{_list(stage.identities)}")
    if stage.problems:
        parts.append(f'<div class="problems"><strong>Problems found</strong>{_list(stage.problems)}</div>')
    return (
        f'<li class="stage {css}" id="stage-{stage.number}" data-stage="{stage.number}" '
        f'data-status="{_e(stage.status)}"><div class="marker" aria-hidden="true">{stage.number}</div>'
        f'<article class="card">{"".join(parts)}</article></li>'
    )


def _flow(stages: list[Stage]) -> str:
    chips = []
    for stage in stages:
        css, label = _status(stage.status)
        ai = " \u00b7 GenAI" if stage.genai == "generative" else ""
        chips.append(
            f'<li><a class="chip {css}" href="#stage-{stage.number}"><b>{stage.number}</b>{_e(stage.title)}'
            f" \u2014 {_e(label)}{ai}</a></li>"
        )
    return f'<ol class="flow" aria-label="Stages at a glance, oldest first">{"".join(chips)}</ol>'


def _verdict(e: Explanation) -> str:
    """The top of the page: the verdict, then every problem, before anything reassuring."""
    css = "clear" if e.verdict == "no-problem-found" else "alarm"
    items = "".join(
        "<li>" + (f'<span class="rule">{_e(p.rule)}</span> ' if p.rule else "") + f"{_e(p.sentence)}</li>"
        for p in e.problems
    )
    listed = f'<ul class="top-problems">{items}</ul>' if items else ""
    return (
        f'<section class="verdict {css}" aria-label="Verdict" data-verdict="{_e(e.verdict)}">'
        f'<p class="verdict-line">{_e(e.verdict_sentence)}</p>{listed}</section>'
    )


def explain_html(explanation: Explanation, thumbnails: dict[str, bytes] | None = None) -> str:
    """The whole report as one HTML document. `thumbnails` maps a stage's thumbnail key to JPEG bytes."""
    e, thumbs = explanation, thumbnails or {}
    facts = [
        ("What the file is", f"{e.file}, {e.format_words}."),
        ("Credentials", e.credentials),
        ("Status", f"{e.status}: {e.status_words}."),
        ("Generative AI", e.genai_sentence),
    ]
    summary = (
        '<section class="summary" aria-label="Summary">'
        f"{_thumb(e.thumbnail, thumbs, 'Thumbnail of the file', 'this file as it is now')}"
        f'<div class="facts"><p class="headline">{_e(e.headline)}</p>'
        f"<p>{_badge(e.status, e.status_words)}{_genai_badge(e.genai)}</p>"
        '<dl class="facts-list">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts) + "</dl>"
        f"{_flow(e.stages) if e.stages else ''}</div></section>"
    )
    body = [_verdict(e), summary]
    if e.sequence is not None:
        body.append(
            f'<section class="sequence" aria-label="Image sequence"><h2>Image sequence: {_e(e.sequence.name)}</h2>'
            f"<p>{_e(e.sequence.sentence)}</p>{_list(e.sequence.problems) if e.sequence.problems else ''}</section>"
        )
    if e.stages:
        n = len(e.stages)
        body.append(
            f'<section aria-label="History"><h2>History, oldest first ({n} stage{"s" if n != 1 else ""})</h2>'
            f'<ol class="timeline">{"".join(_stage(s, n, thumbs) for s in e.stages)}</ol></section>'
        )
    if e.policy is not None:
        items = "".join(
            f'<li data-severity="{_e(i.severity)}">{_e(i.sentence)}'
            + (f"<br><em>Remedy:</em> {_e(i.remedy)}" if i.remedy else "")
            + "</li>"
            for i in e.policy
        )
        body.append(
            f'<section class="limits policy"><h2>What the policy says</h2><p>{_e(e.policy_sentence or "")}</p>'
            f"<ul>{items}</ul></section>"
        )
    body.append(
        '<section class="limits does-not-prove"><h2>What the credentials do not prove</h2>'
        f"{_list(e.does_not_prove)}</section>"
    )
    body.append(
        f'<section class="limits cannot-know"><h2>What cannot be known here</h2>{_list(e.cannot_know)}</section>'
    )
    if e.notes:
        body.append(f'<section class="limits notes"><h2>Notes</h2>{_list(e.notes)}</section>')
    if e.evidence:
        rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in evidence_rows(e.evidence, e.sequence))
        body.append(
            f'<section class="limits evidence"><h2>What this report rests on</h2><dl class="facts-list">{rows}</dl>'
            "</section>"
        )
    footer = (
        f"<footer>Made by genai-provenance {_e(__version__)} from the Content Credentials (C2PA) in the file. "
        "It restates what the signers recorded; read it with the two sections above.</footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>How this file was made: {_e(e.file_name)}</title>"
        f"<style>{CSS}</style></head><body><main>"
        f'<h1>How this file was made</h1><p class="filename">{_e(e.file_name)}</p>'
        + "".join(body)
        + footer
        + "</main></body></html>\n"
    )


def _same(out: Path, source: Path) -> bool:
    try:
        return out.resolve() == source.resolve() or (out.exists() and os.path.samefile(out, source))
    except OSError:
        return False


def write_html(out: Path, html: str, sources: Sequence[Path]) -> None:
    """Write the report whole or not at all; never over a file being explained (a sequence: any frame or its
    sidecar)."""
    if out.is_dir():
        raise InputError(f"{out}: is a folder, expected a file path for the HTML report")
    if any(_same(out, source) for source in sources):
        raise InputError(f"{out}: is the file being explained; choose another path for the HTML report")
    try:
        write_text(out, html)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the HTML report ({exc.strerror or exc})") from None
