"""One renderer per output format, behind one interface: `render(result) -> str`.

The CLI picks a renderer by --format (`VERIFY_RENDERERS[fmt]`, or a function below when the text
needs a detail of the command line) and takes the exit code from the result; renderers only format.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from genai_provenance.reports import json_report, text

if TYPE_CHECKING:  # each command imports only the report modules of its own output, when it renders
    from genai_provenance.clearances.outcomes import (
        Exported,
        Granted,
        Imported,
        ListExported,
        ListImported,
        RecordListing,
        Revoked,
    )
    from genai_provenance.credentials.identity import Identity
    from genai_provenance.credentials.sign_asset import SignResult
    from genai_provenance.credentials.sign_sequence import SequenceSignResult
    from genai_provenance.explain.model import ExplainResult
    from genai_provenance.explain.signed_report import ReportCheck
    from genai_provenance.gate.package import PackageResult
    from genai_provenance.gate.results import CheckResult, VerifyResult
    from genai_provenance.gate.verify_package import PackageVerification
    from genai_provenance.policy.preflight import Declaration
    from genai_provenance.reports.console import View

R_contra = TypeVar("R_contra", contravariant=True)
R = TypeVar("R")


class Renderer(Protocol[R_contra]):
    def render(self, result: R_contra) -> str: ...


class VerifyText:
    def __init__(self, view: View | None = None) -> None:
        self.view = view

    def render(self, result: VerifyResult) -> str:
        note = "" if result.anchors_configured else text.NO_ANCHORS + "\n"
        return note + text.verify_text(result.assets, result.discovery, self.view)


class VerifyJunit:
    def render(self, result: VerifyResult) -> str:
        from genai_provenance.reports.junit import asset_case, junit_xml

        cases = [asset_case(a) for a in result.assets]
        return junit_xml("genai-provenance verify", "genai-provenance.verify", cases)


class VerifyJson:
    def render(self, result: VerifyResult) -> str:
        return json_report.dumps(json_report.verify_document(result.assets, result.discovery))


class CheckText:
    def __init__(self, view: View | None = None) -> None:
        self.view = view

    def render(self, result: CheckResult) -> str:
        from genai_provenance.reports.check_report import check_text

        return check_text(result.verdicts, result.policy, result.discovery, self.view)


class CheckJunit:
    def render(self, result: CheckResult) -> str:
        from genai_provenance.reports.junit import junit_xml, verdict_case

        cases = [verdict_case(v) for v in result.verdicts]
        return junit_xml("genai-provenance check", "genai-provenance.check", cases)


class CheckJson:
    def render(self, result: CheckResult) -> str:
        from genai_provenance.reports.check_report import check_document

        return json_report.dumps(check_document(result.verdicts, result.policy, result.discovery))


class PackageText:
    def render(self, result: PackageResult) -> str:
        from genai_provenance.reports.package_report import package_text

        return package_text(result)


class PackageJson:
    def render(self, result: PackageResult) -> str:
        from genai_provenance.reports.package_report import package_document

        return json_report.dumps(package_document(result))


class PackageJunit:
    def render(self, result: PackageResult) -> str:
        from genai_provenance.reports.package_report import package_junit

        return package_junit(result)


class PackageCheckText:
    def render(self, result: PackageVerification) -> str:
        from genai_provenance.reports.package_report import verification_text

        return verification_text(result)


class PackageCheckJson:
    def render(self, result: PackageVerification) -> str:
        from genai_provenance.reports.package_report import verification_document

        return json_report.dumps(verification_document(result))


class Formatted(Generic[R]):
    """A renderer that is one formatting function (text)."""

    def __init__(self, format_: Callable[[R], str]) -> None:
        self.format = format_

    def render(self, result: R) -> str:
        return self.format(result)


class JsonOf(Generic[R]):
    """A renderer that is one document builder, dumped as JSON."""

    def __init__(self, document: Callable[[R], dict[str, Any]]) -> None:
        self.document = document

    def render(self, result: R) -> str:
        return json_report.dumps(self.document(result))


def _lazy(module: str, name: str) -> Callable[..., Any]:
    """`genai_provenance.reports.<module>.<name>`, imported when first called (start-up stays short)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(f"genai_provenance.reports.{module}"), name)(*args, **kwargs)

    return call


class ExplainText:
    def __init__(self, html: Path | None = None) -> None:
        self.html = html  # where the HTML page was written, if it was

    def render(self, result: ExplainResult) -> str:
        from genai_provenance.reports.explain_report import explain_report_text

        return explain_report_text(result, self.html)


class ExplainJson:
    def __init__(self, html: Path | None = None, signer: Identity | None = None) -> None:
        self.html = html
        self.signer = signer  # --sign: the packager identity that signs the document

    def render(self, result: ExplainResult) -> str:
        from genai_provenance.explain.signed_report import sign_report
        from genai_provenance.reports.explain_report import explain_document

        document = explain_document(result, self.html)
        return json_report.dumps(sign_report(document, self.signer) if self.signer else document)


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


SIGN_RENDERERS: dict[str, Renderer[SignResult]] = {
    "text": Formatted(_lazy("sign_report", "sign_text")),
    "json": JsonOf(_lazy("sign_report", "sign_document")),
}
SIGN_SEQUENCE_RENDERERS: dict[str, Renderer[SequenceSignResult]] = {
    "text": Formatted(_lazy("sign_report", "sign_sequence_text")),
    "json": JsonOf(_lazy("sign_report", "sign_sequence_document")),
}
LISTING_RENDERERS: dict[str, Renderer[RecordListing]] = {
    "text": Formatted(_lazy("clearance_report", "listing_text")),
    "json": JsonOf(_lazy("clearance_report", "listing_document")),
}
GRANTED_RENDERERS: dict[str, Renderer[Granted]] = {
    "text": Formatted(_lazy("clearance_report", "granted_text")),
    "json": JsonOf(_lazy("clearance_report", "granted_document")),
}
# Commands without --format: text only.
REVOKED_TEXT: Renderer[Revoked] = Formatted(_lazy("clearance_report", "revoked_text"))
EXPORTED_TEXT: Renderer[Exported] = Formatted(_lazy("clearance_report", "exported_text"))
IMPORTED_TEXT: Renderer[Imported] = Formatted(_lazy("clearance_report", "imported_text"))
LIST_EXPORTED_TEXT: Renderer[ListExported] = Formatted(_lazy("clearance_report", "list_exported_text"))
LIST_IMPORTED_TEXT: Renderer[ListImported] = Formatted(_lazy("clearance_report", "list_imported_text"))


def explain_renderer(fmt: str, html: Path | None = None, signer: Identity | None = None) -> Renderer[ExplainResult]:
    """`explain`: the text names the HTML page written; the JSON names it too and is signed with --sign."""
    return ExplainJson(html, signer) if fmt == "json" else ExplainText(html)


def report_check_renderer(fmt: str, report: Path) -> Renderer[ReportCheck]:
    """`verify-report`: both formats name the report file checked."""
    if fmt == "json":
        return JsonOf(functools.partial(_lazy("explain_report", "report_check_document"), report))
    return Formatted(functools.partial(_lazy("explain_report", "report_check_text"), report))


def declaration_renderer(fmt: str, written_to: Path | None = None) -> Renderer[Declaration]:
    """`preflight`: the text says where the declaration was written (the JSON is the declaration itself,
    also the file -o writes)."""
    if fmt == "json":
        return JsonOf(_lazy("declaration", "declaration_document"))
    return Formatted(functools.partial(_lazy("declaration", "declaration_text"), written_to=written_to))
