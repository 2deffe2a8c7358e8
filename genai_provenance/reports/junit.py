"""JUnit XML for CI systems: one test case per asset, failures carry the reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from genai_provenance.gate.check import AssetVerdict
from genai_provenance.model.provenance import CheckedAsset
from genai_provenance.policy.rules import BLOCK
from genai_provenance.reports.check_report import verdict_text, waived_lines
from genai_provenance.reports.text import STATUS_TEXT, asset_text
from genai_provenance.safe_text import xml_text


@dataclass(frozen=True)
class Case:
    """One test case: passes unless it has a failure type, or is skipped with a reason."""

    name: str
    failure_type: str | None = None
    failure_message: str = ""
    failure_text: str = ""
    system_out: str = ""
    skipped: str | None = None


def verdict_case(verdict: AssetVerdict) -> Case:
    """A checked asset: fails on its blocking findings; other findings and waivers go to system-out."""
    findings = verdict.evaluation.findings
    blocking = [f for f in findings if f.severity == BLOCK]
    if blocking:
        return Case(
            verdict.report.path,
            blocking[0].rule_id,
            "; ".join(f"{f.rule_id}: {f.title}" for f in blocking),
            "\n".join(verdict_text(verdict)),
        )
    out = [f"{f.severity} {f.rule_id}: {f.title}" for f in findings] + waived_lines(verdict)
    return Case(verdict.report.path, system_out="\n".join(out))


def asset_case(asset: CheckedAsset) -> Case:
    """A verified asset: fails unless trusted and intact, with its status and failure codes as the reason."""
    report = asset.report
    if asset.passed:
        return Case(report.path)
    reasons = [STATUS_TEXT[report.status]] + [f"{f.code}: {f.explanation}" for f in report.failures]
    reasons += [f"{c.kind} {c.id}: {c.status}" for c in asset.clearances if not c.ok]
    return Case(report.path, str(report.status), "; ".join(reasons), "\n".join(asset_text(report, asset.clearances)))


def junit_xml(suite_name: str, classname: str, cases: list[Case]) -> str:
    suite = ET.Element("testsuite", name=suite_name)
    for case in cases:
        element = ET.SubElement(suite, "testcase", classname=classname, name=case.name)
        if case.failure_type is not None:
            failure = ET.SubElement(element, "failure", type=case.failure_type, message=case.failure_message)
            failure.text = case.failure_text
        elif case.skipped is not None:
            ET.SubElement(element, "skipped", message=case.skipped)
        elif case.system_out:
            ET.SubElement(element, "system-out").text = case.system_out
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(c.failure_type is not None for c in cases)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(c.failure_type is None and c.skipped is not None for c in cases)))
    _xml_safe(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _xml_safe(root: ET.Element) -> None:
    """Strip what XML 1.0 forbids (ESC in a file name or a description) so the file stays well formed."""
    for element in root.iter():
        element.attrib.update({k: xml_text(v) for k, v in element.attrib.items()})
        if element.text:
            element.text = xml_text(element.text)
