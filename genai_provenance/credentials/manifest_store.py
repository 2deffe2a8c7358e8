"""Turn the JSON a c2pa Reader returns into the provenance model."""

from __future__ import annotations

import json
from typing import Any

from genai_provenance.credentials.failure_codes import TRUST_ONLY, explain, stage_status
from genai_provenance.credentials.genai_scan import (
    BROKEN_HISTORY_LABEL,
    CLEARANCES_LABEL,
    DISCLOSURE_LABEL,
    scan_manifest,
)
from genai_provenance.credentials.sequence_record import SEQUENCE_LABEL, FrameClaim
from genai_provenance.credentials.untrusted_json import array, obj, objects, text
from genai_provenance.model.disclosure import Disclosure
from genai_provenance.model.provenance import (
    INVALID,
    NO_CREDENTIALS,
    TRUSTED,
    UNREADABLE,
    AssetReport,
    CawgIdentity,
    Failure,
    IngredientNode,
    ManifestInfo,
    SignerInfo,
)
from genai_provenance.schemas import validator


def _well_formed(disclosure: dict[str, Any]) -> bool:
    """Read a disclosure only when it follows our schema: content under our label is untrusted input."""
    return bool(validator("disclosure").is_valid(disclosure))


def _in_stable_order(action: dict[str, Any]) -> dict[str, Any]:
    """The action with its parameters in sorted order: c2pa returns them in a hash map's order, which
    changes from one read to the next, and the same file must give the same report."""
    params = action.get("parameters")
    if not isinstance(params, dict):
        return action
    return {**action, "parameters": dict(sorted(params.items()))}


def _agent(info: Any) -> str | None:
    if isinstance(info, list) and info:
        info = info[0]
    if isinstance(info, dict):
        return " ".join(str(info[k]) for k in ("name", "version") if info.get(k)) or None
    return info if isinstance(info, str) else None


def _dn(dn: Any) -> str | None:
    parts = [str(v) for v in (obj(dn).get(k) for k in ("CN", "O")) if isinstance(v, str) and v]
    return ", ".join(parts) or None


def signer_info(manifest: dict[str, Any], cert: dict[str, Any] | None) -> SignerInfo | None:
    sig, cert = obj(manifest.get("signature_info")), obj(cert)
    if not sig and not cert:
        return None
    subject = obj(cert.get("subject"))
    return SignerInfo(
        common_name=text(subject.get("CN")) or text(sig.get("common_name")),
        organisation=text(subject.get("O")) or text(sig.get("issuer")),
        issuer=_dn(cert.get("issuer")),
        serial=text(cert.get("serialNumber")) or text(sig.get("cert_serial_number")),
        not_after=text(obj(cert.get("validity")).get("notAfter")),
        algorithm=text(sig.get("alg")),
    )


def _claimed_time(manifest: dict[str, Any]) -> str | None:
    for assertion in objects(manifest.get("assertions")):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in objects(obj(assertion.get("data")).get("actions")):
                if isinstance(action.get("when"), str) and action["when"]:
                    return str(action["when"])
    return None


def manifest_info(
    label: str, manifest: dict[str, Any], cert: dict[str, Any] | None, embedded: dict[str, dict[str, Any]]
) -> ManifestInfo:
    """One manifest of the store; signed clearance records it carries are added to `embedded`."""
    sig = obj(manifest.get("signature_info"))
    info = ManifestInfo(
        label=label,
        title=text(manifest.get("title")),
        format=text(manifest.get("format")),
        claim_generator=_agent(manifest.get("claim_generator_info")) or text(manifest.get("claim_generator")),
        signer=signer_info(manifest, cert),
        signed_at=text(sig.get("time")),
        time_stamped=bool(text(sig.get("time"))),
        claimed_time=_claimed_time(manifest),
        thumbnail=text(obj(manifest.get("thumbnail")).get("identifier")),
    )
    for assertion in objects(manifest.get("assertions")):
        name = text(assertion.get("label")) or ""
        data = assertion.get("data")
        info.assertions.append(name)
        if name.startswith("c2pa.actions") and isinstance(data, dict):
            info.actions.extend(_in_stable_order(action) for action in objects(data.get("actions")))
        elif name == DISCLOSURE_LABEL:
            info.disclosure = Disclosure.parse(data) if isinstance(data, dict) and _well_formed(data) else None
            info.disclosure_malformed = info.disclosure is None
        elif name == CLEARANCES_LABEL and isinstance(data, dict):
            for envelope in array(data.get("records")):
                record_id = ((envelope or {}).get("record") or {}).get("id") if isinstance(envelope, dict) else None
                if isinstance(record_id, str):
                    info.clearance_ids.append(record_id)
                    embedded.setdefault(record_id, envelope)
        elif name in ("cawg.training-mining", "c2pa.training-mining") and isinstance(data, dict):
            for key, entry in obj(data.get("entries")).items():
                if isinstance(entry, dict) and "use" in entry:
                    info.training_mining[key.split(".", 1)[-1]] = str(entry["use"])
    if BROKEN_HISTORY_LABEL in info.assertions:
        info.broken_history_recorded = True
    info.genai_uses = scan_manifest(label, manifest, info.disclosure)
    return info


_HARD_BINDINGS = ("c2pa.hash.data", "c2pa.hash.bmff", "c2pa.hash.boxes", "c2pa.hash.collection", "c2pa.hash.multi")


def _hard_binding(assertions: Any) -> str | None:
    """The label of the assertion that binds a manifest to its asset's bytes (crjson keys them by label)."""
    labels = list(assertions) if isinstance(assertions, dict | list) else []
    return next((str(a) for a in labels if isinstance(a, str) and a.startswith(_HARD_BINDINGS)), None)


IDENTITY_LABEL = "cawg.identity"
_IDENTITY_OK = {"cawg.x509.signature.validated", "cawg.identity.well-formed"}
_IDENTITY_UNTRUSTED = "cawg.x509.credential.untrusted"


def _entries(results: Any, kind: str) -> list[dict[str, Any]]:
    return objects(obj(obj(results).get("activeManifest")).get(kind))


def _codes_at(results: list[dict[str, Any]], kind: str, where: str) -> set[str]:
    return {str(e.get("code")) for r in results for e in _entries(r, kind) if str(e.get("url", "")).endswith(where)}


def identities(
    label: str, manifest: dict[str, Any], cert: dict[str, Any] | None, results: list[dict[str, Any]]
) -> list[CawgIdentity]:
    """The CAWG identity assertions of one manifest, with what c2pa's validation said about each.

    `results`: every validation_results object of the store (active manifest and ingredients).
    """
    del cert  # the identity's certificate summary is in the assertion's own signature_info
    out = []
    for assertion in objects(manifest.get("assertions")):
        name = text(assertion.get("label")) or ""
        if not (name == IDENTITY_LABEL or name.startswith(IDENTITY_LABEL + "__")):
            continue
        data = obj(assertion.get("data"))
        payload = obj(data.get("signer_payload"))
        info = obj(data.get("signature_info"))
        where = f"/c2pa/{label}/c2pa.assertions/{name}"
        codes_ok = _codes_at(results, "success", where)
        problems = sorted(_codes_at(results, "failure", where))
        verified = bool(codes_ok & _IDENTITY_OK) and all(p in TRUST_ONLY for p in problems)
        who = str(info["common_name"]) if info.get("common_name") else None
        out.append(
            CawgIdentity(
                manifest=label,
                label=name,
                sig_type=str(payload.get("sig_type")) if payload.get("sig_type") else None,
                name=who,
                issuer=str(info["issuer"]) if info.get("issuer") else None,
                verified=verified,
                trusted=verified and not problems,
                problems=problems,
            )
        )
    return out


def _code(entry: dict[str, Any]) -> str:
    return text(entry.get("code")) or "general.error"


def _failures(results: Any, where: str) -> list[Failure]:
    return [
        Failure(_code(e), explain(_code(e), text(e.get("explanation"))), where) for e in _entries(results, "failure")
    ]


def _successes(results: Any) -> set[str]:
    return {_code(e) for e in _entries(results, "success")}


def _informational(results: Any) -> set[str]:
    return {_code(e) for e in _entries(results, "informational")}


def _delta_failures(results: dict[str, Any]) -> list[tuple[str, Failure]]:
    """Failures c2pa found when re-checking ingredients now, keyed by the ingredient's URI."""
    out = []
    for delta in objects(results.get("ingredientDeltas")):
        uri = text(delta.get("ingredientAssertionURI")) or text(delta.get("uri")) or ""
        for entry in objects(obj(delta.get("validationDeltas")).get("failure")):
            code = _code(entry)
            where = f"ingredient {uri.rsplit('/', 1)[-1]}"
            out.append((uri, Failure(code, explain(code, text(entry.get("explanation"))), where)))
    return out


def _ingredient_tree(
    manifests: dict[str, Any],
    infos: dict[str, ManifestInfo],
    manifest_label: str,
    deltas: list[tuple[str, Failure]],
    seen: frozenset[str],
) -> list[IngredientNode]:
    nodes = []
    for ing in objects(manifests.get(manifest_label, {}).get("ingredients")):
        child = text(ing.get("active_manifest"))
        own_label = text(ing.get("label")) or ""
        title = text(ing.get("title"))
        failures = _failures(ing.get("validation_results"), f"ingredient {title}")
        for uri, failure in deltas:
            if manifest_label in uri and own_label and uri.endswith(own_label):
                failure.where = f"ingredient {title}"  # name it as the reader knows it
                failures.append(failure)
        if child:
            status = stage_status(failures, "signingCredential.trusted" in _successes(ing.get("validation_results")))
        else:
            status = INVALID if failures else NO_CREDENTIALS
        node = IngredientNode(
            title=title,
            format=text(ing.get("format")),
            relationship=text(ing.get("relationship")),
            manifest=child,
            status=status,
            failures=failures,
            signer=infos[child].signer if child in infos else None,
        )
        if child and child in manifests and child not in seen:
            node.children = _ingredient_tree(manifests, infos, child, deltas, seen | {child})
        node.genai = bool(child in infos and infos[child].genai_uses) or any(c.genai for c in node.children)
        nodes.append(node)
    return nodes


def _history_order(active: str, manifests: dict[str, Any]) -> list[str]:
    """Manifest labels oldest first: parents before the stages that used them."""
    order: list[str] = []

    def visit(label: str, seen: frozenset[str]) -> None:
        for ing in objects(manifests.get(label, {}).get("ingredients")):
            child = text(ing.get("active_manifest"))
            if child and child in manifests and child not in seen:
                visit(child, seen | {child})
        if label not in order:
            order.append(label)

    visit(active, frozenset({active}))
    order += [label for label in manifests if label not in order]
    return order


def report_from_store(report: AssetReport, store_json: str, cr_json: str | None, state: str | None) -> AssetReport:
    """Fill `report` from Reader.json() (and crjson() for certificate details)."""
    store = obj(json.loads(store_json))
    manifests = {str(k): obj(m) for k, m in obj(store.get("manifests")).items()}
    active = text(store.get("active_manifest"))
    if not active or active not in manifests:
        report.status = NO_CREDENTIALS
        return report
    certs: dict[str, Any] = {}
    bindings: dict[str, str] = {}
    if cr_json:
        for entry in objects(obj(json.loads(cr_json)).get("manifests")):
            cr_label = text(entry.get("label"))
            if cr_label is None:
                continue
            certs[cr_label] = obj(obj(entry.get("signature")).get("certificateInfo"))
            binding = _hard_binding(entry.get("assertions"))
            if binding:
                bindings[cr_label] = binding
    infos = {
        label: manifest_info(label, m, certs.get(label), report.embedded_clearances) for label, m in manifests.items()
    }
    for label, info in infos.items():
        info.hard_binding = bindings.get(label) or _hard_binding({a: None for a in info.assertions})
    results = obj(store.get("validation_results"))
    deltas = _delta_failures(results)
    failures = _failures(results, "active manifest")
    report.active_manifest = active
    report.manifests = [infos[label] for label in _history_order(active, manifests)]
    top = infos[active]
    report.signer, report.signed_at, report.time_stamped = top.signer, top.signed_at, top.time_stamped
    report.ingredients = _ingredient_tree(manifests, infos, active, deltas, frozenset({active}))
    # An identity credential merely not on a trust list is not a failure of the asset's credentials: the C2PA
    # signer vouches for the asset; the CAWG identity is reported on its own (report.identities) as unconfirmed.
    unconfirmed = [f for f in failures if f.code == _IDENTITY_UNTRUSTED]
    report.failures = [f for f in failures if f.code != _IDENTITY_UNTRUSTED] + [f for _, f in deltas]
    trusted = state == "Trusted" or "signingCredential.trusted" in _successes(results)
    report.status = INVALID if state == "Invalid" else stage_status(report.failures, trusted)
    if unconfirmed:
        report.notes.append(
            "the CAWG identity credential the manifest carries is not on a trust list: who it names is unconfirmed"
            + (" (the C2PA signer itself is trusted)" if report.status == TRUSTED else "")
        )
    report.time_stamp_trusted = report.time_stamped and "timeStamp.trusted" in _successes(results)
    if report.time_stamped and "timeStamp.untrusted" in _informational(results):
        report.notes.append(
            "the time-stamp authority is not among the trust anchors: the signing time is its claim, not verified"
        )
    report.history_problems = history_problems(report)
    every_result = [results] + [
        obj(ing.get("validation_results")) for m in manifests.values() for ing in objects(m.get("ingredients"))
    ]
    order = _history_order(active, manifests)
    report.identities = [i for lbl in order for i in identities(lbl, manifests[lbl], certs.get(lbl), every_result)]
    report.genai_uses = [u for info in report.manifests for u in info.genai_uses]
    report.genai = any(u.certainty == "generative" for u in report.genai_uses)
    report.genai_possible = any(u.certainty == "maybe" for u in report.genai_uses)
    report.disclosures = [
        {"manifest": info.label, "disclosure": info.disclosure.raw} for info in report.manifests if info.disclosure
    ]
    claims = [a for a in objects(manifests[active].get("assertions")) if a.get("label") == SEQUENCE_LABEL]
    if claims:  # the active manifest's own record only: an ingredient's sequence is another asset's
        report.sequence_claim = FrameClaim.parse(claims[0].get("data")) if len(claims) == 1 else None
        report.sequence_malformed = report.sequence_claim is None
    return report


def _broken_nodes(nodes: list[IngredientNode], trail: str) -> list[str]:
    out: list[str] = []
    for node in nodes:
        where = f"{trail}{node.relationship or 'ingredient'} {node.title or '(untitled)'}"
        if node.status in (INVALID, UNREADABLE):
            codes = ", ".join(dict.fromkeys(f.code for f in node.failures)) or node.status
            out.append(f"{where}: {node.status} ({codes})")
        out += _broken_nodes(node.children, f"{where} > ")
    return out


def history_problems(report: AssetReport) -> list[str]:
    """Every stage in the asset's history whose credentials are tampered or unreadable, and any
    stage whose signer recorded that it signed over such a history."""
    problems = _broken_nodes(report.ingredients, "")
    for info in report.manifests:
        if info.broken_history_recorded:
            problems.append(f"stage {info.title or info.label}: its signer recorded signing over a broken history")
    return problems
