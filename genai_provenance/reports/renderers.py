"""One renderer per output format, behind one interface: `render(result) -> str`.

The CLI picks a renderer by --format (`VERIFY_RENDERERS[fmt]`) and takes the exit code from the
result; renderers only format.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from genai_provenance.gate.package import PackageResult
from genai_provenance.gate.results import CheckResult, VerifyResult
from genai_provenance.gate.verify_package import PackageVerification
from genai_provenance.reports import json_report, text
from genai_provenance.reports.check_report import check_document, check_text
from genai_provenance.reports.console import View
from genai_provenance.reports.junit import asset_case, junit_xml, verdict_case
from genai_provenance.reports.package_report import (
    package_document,
    package_junit,
    package_text,
    verification_document,
    verification_text,
)

R_contra = TypeVar("R_contra", contravariant=True)

NO_ANCHORS = "note: no trust anchors (no --trust and no workspace): no signer can be trusted\n"


class Renderer(Protocol[R_contra]):
    def render(self, result: R_contra) -> str: ...


class VerifyText:
    def __init__(self, view: View | None = None) -> None:
        self.view = view

    def render(self, result: VerifyResult) -> str:
        note = "" if result.anchors_configured else NO_ANCHORS + "\n"
        return note + text.verify_text(result.assets, result.discovery, self.view)


class VerifyJunit:
    def render(self, result: VerifyResult) -> str:
        cases = [asset_case(a) for a in result.assets]
        return junit_xml("genai-provenance verify", "genai-provenance.verify", cases)


class VerifyJson:
    def render(self, result: VerifyResult) -> str:
        return json_report.dumps(json_report.verify_document(result.assets, result.discovery))


class CheckText:
    def __init__(self, view: View | None = None) -> None:
        self.view = view

    def render(self, result: CheckResult) -> str:
        return check_text(result.verdicts, result.policy, result.discovery, self.view)


class CheckJunit:
    def render(self, result: CheckResult) -> str:
        cases = [verdict_case(v) for v in result.verdicts]
        return junit_xml("genai-provenance check", "genai-provenance.check", cases)


class CheckJson:
    def render(self, result: CheckResult) -> str:
        return json_report.dumps(check_document(result.verdicts, result.policy, result.discovery))


class PackageText:
    def render(self, result: PackageResult) -> str:
        return package_text(result)


class PackageJson:
    def render(self, result: PackageResult) -> str:
        return json_report.dumps(package_document(result))


class PackageJunit:
    def render(self, result: PackageResult) -> str:
        return package_junit(result)


class PackageCheckText:
    def render(self, result: PackageVerification) -> str:
        return verification_text(result)


class PackageCheckJson:
    def render(self, result: PackageVerification) -> str:
        return json_report.dumps(verification_document(result))


VERIFY_RENDERERS: dict[str, Renderer[VerifyResult]] = {
    "text": VerifyText(),
    "json": VerifyJson(),
    "junit": VerifyJunit(),
}
CHECK_RENDERERS: dict[str, Renderer[CheckResult]] = {"text": CheckText(), "json": CheckJson(), "junit": CheckJunit()}
PACKAGE_RENDERERS: dict[str, Renderer[PackageResult]] = {
    "text": PackageText(),
    "json": PackageJson(),
    "junit": PackageJunit(),
}
VERIFY_PACKAGE_RENDERERS: dict[str, Renderer[PackageVerification]] = {
    "text": PackageCheckText(),
    "json": PackageCheckJson(),
}


def verify_renderer(fmt: str, view: View | None = None) -> Renderer[VerifyResult]:
    """The renderer for --format; text laid out as `view` says (table, failures only, quiet)."""
    return VerifyText(view) if fmt == "text" else VERIFY_RENDERERS[fmt]


def check_renderer(fmt: str, view: View | None = None) -> Renderer[CheckResult]:
    return CheckText(view) if fmt == "text" else CHECK_RENDERERS[fmt]
