"""What the credentials do not prove, and what cannot be known from them."""

from __future__ import annotations

from genai_provenance.explain.model import (
    UNCHECKED,
    ClearanceView,
    Stage,
)
from genai_provenance.explain.stages import BYTES_CHANGED
from genai_provenance.explain.wording import (
    DOES_NOT_PROVE_SIGNATURE,
    join,
    sentence,
)
from genai_provenance.model.provenance import (
    INVALID,
    NO_CREDENTIALS,
    UNREADABLE,
    AssetReport,
)


def does_not_prove(report: AssetReport, stages: list[Stage], genai: str, clearances: list[ClearanceView]) -> list[str]:
    if report.status in (NO_CREDENTIALS, UNREADABLE):
        return [
            "Without credentials nothing here is signed: there is no signer, no signed time and no recorded history "
            "to rely on.",
            "A missing record is not evidence either way: it does not show how the file was made, who made it, or "
            "whether generative AI was involved.",
            DOES_NOT_PROVE_SIGNATURE,
        ]
    out = [DOES_NOT_PROVE_SIGNATURE]
    if any(s.signer and s.signer.trust == "trusted" for s in stages):
        out.append(
            "Being on the trust list means the certificate was issued under an authority you chose to trust; it "
            "says nothing about the quality of the work or whether the studio's rules were followed."
        )
    if any(v.status == UNCHECKED for v in clearances):
        out.append(
            "An approval or consent ID in a disclosure is only a reference: it proves nothing until the signed "
            "approval or consent record it names is checked."
        )
    if any(v.status == "valid" for v in clearances):
        out.append(
            "An approval or consent that checks out shows that a trusted approver signed a record with that ID "
            "covering this use; it does not show that the work stayed within what was approved."
        )
    if any(s.time and not s.time.time_stamped_at for s in stages):
        out.append("Times that are not time-stamped are the signer's own claims.")
    if genai == "none-recorded":
        out.append("That no generative AI use is recorded does not prove that none was used.")
    return out


def cannot_know(report: AssetReport, stages: list[Stage], name: str, clearances_unchecked: bool) -> list[str]:
    out: list[str] = []
    if report.status == NO_CREDENTIALS:
        out.append(
            f"{name} has no Content Credentials. That does not tell you whether generative AI was used: "
            "credentials are often removed by exports, uploads, screenshots and transcodes, and many tools never "
            "write them. Its origin, its makers and the tools used cannot be known from the file itself."
        )
        out.append(
            "If the file was delivered with credentials, ask the supplier for the signed original or its .c2pa sidecar."
        )
        return out
    if report.status == UNREADABLE:
        return [
            f"{name} could not be read as media ({report.error or 'unknown error'}); nothing about its history can "
            "be said. Check that the file is complete and in a supported format."
        ]
    if not stages:
        return [
            f"The credentials in {name} are damaged and could not be verified ({report.error or 'unknown error'}); "
            "none of what they say can be relied on, and the file's history cannot be known from them."
        ]
    for stage in stages:
        label = f"stage {stage.number} ({stage.title})"
        cap_label = f"Stage {stage.number} ({stage.title})"
        codes = set(stage.failure_codes)
        if stage.kind == "no-credentials":
            out.append(
                sentence(
                    f"{cap_label} carried no Content Credentials when it was used: where it came from, who "
                    "made it and whether generative AI was involved before that point cannot be known"
                )
            )
        elif codes & BYTES_CHANGED:
            out.append(
                sentence(
                    f"The bytes of {'this file' if stage.current else 'the asset of ' + label} changed after "
                    f"{label} was signed: the record describes the media as it was when signed, not necessarily "
                    "what you have now. This alone does not show the content was falsified (re-saving or editing "
                    "a file also changes its bytes), but the credentials no longer vouch for it"
                )
            )
        elif stage.status == INVALID:
            out.append(
                sentence(
                    f"The record of {label} was altered or damaged after signing, or could not be checked: what it "
                    "says cannot be relied on"
                )
            )
        if stage.signer and stage.signer.trust == "untrusted" and stage.status == INVALID:
            out.append(
                sentence(
                    f"{cap_label} was also signed by {stage.signer.common_name or 'an unnamed certificate'}, whose "
                    "certificate is not on the trust list used here, so who signed it cannot be confirmed either"
                )
            )
        elif stage.signer and stage.signer.trust == "untrusted":
            out.append(
                sentence(
                    f"{cap_label} was signed by {stage.signer.common_name or 'an unnamed certificate'}, "
                    "whose certificate is not on the trust list used here. Its signature is intact, so the record "
                    "has not changed since it was signed, but who really signed it cannot be confirmed. If you "
                    "know and trust this signer, add their root certificate to the trust anchors (--trust) and "
                    "explain the file again"
                )
            )
        elif stage.signer and stage.signer.trust == "certificate-problem":
            out.append(sentence(f"The signer of {label} cannot be relied on: {stage.signer.why}"))
    signed = [s for s in stages if s.kind == "signed"]
    if len(signed) > 1:
        out.append(
            "The media of earlier stages is not inside this file: each earlier stage's signed record can be "
            "checked, but not compared with the pictures or sound that stage actually produced."
        )
    untimed = [s for s in signed if s.time and not s.time.time_stamped_at]
    if untimed:
        which = join([str(s.number) for s in untimed])
        out.append(
            sentence(
                f"Stage{'s' if len(untimed) > 1 else ''} {which} {'have' if len(untimed) > 1 else 'has'} no "
                "time-stamp: when signing actually happened cannot be confirmed"
            )
        )
    if clearances_unchecked:
        out.append(
            "Approval and consent IDs were declared but could not be checked here: no signed clearance records "
            "were consulted, so whether they exist, are in force and cover this use is not known."
        )
    if any(s.unknown_assertions for s in stages):
        out.append(
            "Some records in the credentials are of kinds this tool does not interpret; they are listed under "
            "their stages but not explained."
        )
    if any(f.code == "manifest.remote" for f in report.failures):
        out.append("Part of the credentials is stored remotely and was not fetched.")
    out.append(
        "Anything done outside the signed stages (before the first one, or between two of them without a new "
        "signature) is not recorded."
    )
    return out
