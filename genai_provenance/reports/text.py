"""Human-readable text reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from genai_provenance.gate.discovery import Discovery
from genai_provenance.grammar import plural
from genai_provenance.model.provenance import (
    INVALID,
    NO_CREDENTIALS,
    TRUSTED,
    UNREADABLE,
    VALID_UNTRUSTED,
    AssetReport,
    CheckedAsset,
    ClearanceCheck,
    IngredientNode,
    SequenceSummary,
    SignerInfo,
    summarise,
)
from genai_provenance.reports.console import Row, View, by_status, one_liner, table
from genai_provenance.safe_text import one_line

NO_ANCHORS = "note: no trust anchors (no --trust and no workspace): no signer can be trusted\n"
SIGNATURE_LIMITS = (
    "A valid signature shows who signed and that the bytes are unchanged; it does not prove the declaration is true."
)
STATUS_TEXT = {
    TRUSTED: "TRUSTED: signed by a trusted identity, unchanged since signing",
    VALID_UNTRUSTED: "VALID BUT UNTRUSTED: intact, but the signer is not among the trust anchors",
    INVALID: "INVALID: the file or its credentials were altered or are broken",
    NO_CREDENTIALS: "NO CREDENTIALS: nothing can be said about how it was made (this does not mean no AI)",
    UNREADABLE: "UNREADABLE: the file could not be read as media",
}


def render(lines: Iterable[str]) -> str:
    """Every text report goes out through here: each line terminal-safe, no control character
    (ESC, CR, C1, a newline inside a signer's description) reaches the terminal raw."""
    return "\n".join(one_line(line) for line in lines)


def signer_line(signer: SignerInfo | None) -> str:
    if signer is None:
        return "unknown signer"
    who = signer.common_name or "unnamed"
    org = f" ({signer.organisation})" if signer.organisation else ""
    issuer = f", issued by {signer.issuer}" if signer.issuer else ""
    return f"{who}{org}{issuer}"


def _tree(nodes: list[IngredientNode], indent: str) -> list[str]:
    lines = []
    for node in nodes:
        genai = " [GenAI]" if node.genai else ""
        signer = f" by {signer_line(node.signer)}" if node.signer else ""
        lines.append(f"{indent}- {node.title} ({node.relationship}): {node.status}{signer}{genai}")
        lines.extend(f"{indent}    ! {f.code}: {f.explanation}" for f in node.failures)
        lines.extend(_tree(node.children, indent + "    "))
    return lines


def sequence_line(seq: SequenceSummary) -> str:
    """`image sequence name.%04d.exr: frames 1001-1100, 100 signed, 99 on disk; missing 1050`."""
    text = f"image sequence {seq.pattern}: frames {seq.first}-{seq.last}, {seq.count} in the signed record, "
    text = text if seq.record else f"image sequence {seq.pattern}: frames {seq.first}-{seq.last}, no signed record, "
    text += f"{seq.present} on disk"
    for label, numbers in (("missing", seq.missing), ("extra", seq.extra), ("gaps on disk", seq.gaps)):
        if numbers:
            shown = ", ".join(map(str, numbers[:20])) + (f" and {len(numbers) - 20} more" if len(numbers) > 20 else "")
            text += f"; {label}: {shown}"
    return text


def asset_text(report: AssetReport, clearances: Sequence[ClearanceCheck] = ()) -> list[str]:
    lines = [f"{report.path}", f"  status: {STATUS_TEXT[report.status]}"]
    if report.sequence is not None:
        lines.append(f"  {sequence_line(report.sequence)}")
    if report.active_manifest:
        lines.append(f"  signer: {signer_line(report.signer)}")
        if report.signer and report.signer.fingerprint:
            lines.append(f"  signer certificate SHA-256: {report.signer.fingerprint}")
        if report.signer and report.signer.pinned is not None:
            listed = "on" if report.signer.pinned else "NOT on"
            lines.append(f"  signer list: {listed} the signer list for this production")
        when = report.signed_at or "not time-stamped"
        stamp = " (time-stamped)" if report.time_stamped else ""
        stamp += " [time-stamp authority trusted]" if report.time_stamp_trusted else ""
        lines.append(f"  signed: {when}{stamp}")
        ai = "yes" if report.genai else ("possibly" if report.genai_possible else "none declared or recorded")
        lines.append(f"  GenAI: {ai}")
        for use in report.genai_uses:
            what = use.description or use.source_type or use.evidence
            tool = f" using {use.tool}" if use.tool else ""
            cat = f" [{use.category}]" if use.category else ""
            lines.append(f"    - {what}{tool}{cat} ({use.certainty}; {use.evidence})")
    for identity in report.identities:
        if identity.trusted:
            state = "verified, credential trusted"
        elif identity.verified:
            state = "signature verified, but the credential is not on a trust list: who it names is unconfirmed"
        else:
            state = "NOT verified"
        issuer = f", issued by {identity.issuer}" if identity.issuer else ""
        lines.append(f"  CAWG identity: {identity.name or 'unnamed'}{issuer} ({state})")
    for failure in report.failures:
        lines.append(f"  ! {failure.code}: {failure.explanation} ({failure.where})")
    lines.extend(f"  ! broken history: {problem}" for problem in report.history_problems)
    if report.error and not report.failures:
        lines.append(f"  ! {report.error}")
    for check in clearances:
        mark = "ok" if check.ok else "!!"
        cat = f" for {check.category}" if check.category else ""
        lines.append(f"  {mark} {check.kind} {check.id}{cat}: {check.status} ({check.detail})")
        if check.revocation_source:
            lines.append(f"     revocation checked against {check.revocation_source}")
    if report.ingredients:
        lines.append("  ingredients:")
        lines.extend(_tree(report.ingredients, "    "))
    lines.extend(f"  note: {note}" for note in report.notes)
    return lines


def verify_row(asset: CheckedAsset) -> Row:
    report = asset.report
    failing = len(report.failures) + sum(not c.ok for c in asset.clearances)
    signer = (report.signer.common_name or "unnamed") if report.signer else "-"
    return Row(report.path, str(report.status), report.genai, signer, failing, asset.passed)


def assets_block(rows: list[Row], detail: Callable[[], list[str]], view: View) -> tuple[list[str], list[str]]:
    """The per-asset part of a report: (plain lines to escape, table lines already escaped cell by cell)."""
    if view.quiet:
        return [one_liner(r) for r in rows] + ([""] if rows else []), []
    if view.table(len(rows)):
        return [], [*table(rows, view), ""]
    return detail(), []


def verify_text(assets: list[CheckedAsset], found: Discovery | None = None, view: View | None = None) -> str:
    view = view or View()
    shown = [a for a in assets if not a.passed] if view.only_failures or view.quiet else assets

    def detail() -> list[str]:
        lines: list[str] = []
        for asset in shown:
            block = asset_text(asset.report, asset.clearances)
            if view.verbose:
                block.insert(1, f"  checked on: {asset.checked_on}")
            lines.extend(block)
            lines.append("")
        return lines

    plain, drawn = assets_block([verify_row(a) for a in shown], detail, view)
    lines: list[str] = []
    if found is not None and found.lines():
        lines += [*found.lines(), ""]
    s = summarise([a.report for a in assets])
    lines.append(
        f"{plural(s['assets'], 'asset')}: {s['passed']} trusted, {s['failed']} not passing, {s['genai']} with GenAI"
    )
    lines.append(by_status(a.report.status for a in assets))
    lines.append(SIGNATURE_LIMITS)
    return "\n".join(filter(None, [render(plain), "\n".join(drawn), render(lines)]))
