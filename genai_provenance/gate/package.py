"""The final-deliverable gate: package a folder as a BagIt bag only when every asset is cleared.

Check first (in parallel), write nothing when anything blocks. Otherwise copy into a staging
folder beside the target, bag it (SHA-256 and SHA-512), add the signed package report, verify
the staged package in full, and rename it into place. A watchdog process removes the staging
folder if this process dies before the rename, so a killed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bagit

from genai_provenance import __version__
from genai_provenance.clearances.records import iso, now_utc
from genai_provenance.credentials.identity import Identity
from genai_provenance.errors import InputError
from genai_provenance.files import check_target_name, hidden_sibling, pid_alive, sweep_dead_temps
from genai_provenance.gate.check import AssetVerdict, CheckConfig
from genai_provenance.gate.cluster import ClusterTarget
from genai_provenance.gate.discovery import Candidate, FolderDiscovery, discover_folder
from genai_provenance.gate.executor import open_executor
from genai_provenance.gate.memory_budget import worker_budget
from genai_provenance.gate.pool import LocalPool, check_pool
from genai_provenance.gate.results import FAILED, PASSED
from genai_provenance.gate.verify_package import REPORT_FILE, SIGNATURE_FILE, verify_package
from genai_provenance.gate.watchdog import settle
from genai_provenance.policy.rules import load_policy
from genai_provenance.trust.detached import sign_bytes

REPORT_FORMAT = "genai-provenance/package-report/v1"
SIGNATURE_FORMAT = "genai-provenance/detached-signature/v1"
ALLOWLIST_RULE = "PKG-ALLOWLIST-001"
STAGING_MARK = ".genai-provenance-staging-"
CHECKSUMS = ("sha256", "sha512")

_bagit_log = logging.getLogger("bagit")
_bagit_log.addHandler(logging.NullHandler())
_bagit_log.propagate = False


Discovery = FolderDiscovery  # the package gate's view of a source folder (discovery.py)


def discover(source: Path, excludes: tuple[str, ...] = (), *, default_ignores: bool = True) -> FolderDiscovery:
    """Every file under `source`: media to check, sidecars paired, strays, exclusions (discovery.py)."""
    return discover_folder(source, excludes, default_ignores=default_ignores)


@dataclass
class PackageRequest:
    source: Path
    target: Path
    config: CheckConfig
    packager: Identity
    organisation: str
    workers: int = 1
    excludes: tuple[str, ...] = ()
    force: bool = False
    default_ignores: bool = True
    progress: Callable[[int], None] | None = None
    on_total: Callable[[int], None] | None = None
    on_phase: Callable[[str], None] | None = None  # a long phase without a count begins (for a progress display)
    cluster: ClusterTarget | None = None  # check on a Dask cluster (the staged package is re-checked here)

    def phase(self, name: str) -> None:
        if self.on_phase:
            self.on_phase(name)


@dataclass
class PackageResult:
    source: Path
    target: Path
    verdicts: list[AssetVerdict]
    discovery: Discovery
    written: bool = False
    report: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)  # how the run was shaped (fewer workers for memory)

    @property
    def blocked(self) -> bool:
        return bool(self.discovery.stray) or any(v.blocked for v in self.verdicts)

    @property
    def exit_code(self) -> int:
        return FAILED if self.blocked else PASSED


def _check_paths(req: PackageRequest) -> None:
    if not req.source.exists():
        raise InputError(f"{req.source}: no such folder")
    if not req.source.is_dir():
        raise InputError(f"{req.source}: not a folder")
    check_target_name(req.target)
    src, dst = req.source.resolve(), req.target.resolve()
    if dst == src or dst.is_relative_to(src) or src.is_relative_to(dst):
        raise InputError(f"{req.target}: the package must be outside the source folder (and not contain it)")
    if req.target.exists() and not req.force:
        raise InputError(f"{req.target}: already exists (use --force to replace it)")
    if req.target.exists() and not (req.target / "bagit.txt").is_file():
        raise InputError(f"{req.target}: exists and is not a package; refusing to replace it")
    if req.workers < 1:
        raise InputError(f"--workers must be at least 1, not {req.workers}")


def check_report_path(report: Path, source: Path, target: Path) -> None:
    """A report file may be written neither into the source folder nor into the package."""
    where = report.resolve()
    for folder in (source, target):
        if where.is_relative_to(folder.resolve()):
            raise InputError(f"{report}: the report cannot be written inside {folder}")


def sweep_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders left by runs whose process no longer exists."""
    removed = []
    for entry in parent.glob(f".*{STAGING_MARK}*"):
        pid_text = entry.name.rsplit("-", 2)[-2] if entry.name.count("-") >= 2 else ""
        if pid_text.isdigit() and not pid_alive(int(pid_text)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


PREVIOUS_MARK = ".genai-provenance-previous-"  # a package being replaced (--force); never swept


@contextlib.contextmanager
def _staging(target: Path) -> Iterator[tuple[Path, Path]]:
    """A staging folder beside `target` that disappears unless the caller renames it away.

    Also yields the name to park an existing package under while it is replaced.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    staging = target.parent / hidden_sibling(target.name, f"{STAGING_MARK}{tag}")
    previous = target.parent / hidden_sibling(target.name, f"{PREVIOUS_MARK}{tag}")
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "genai_provenance.gate.watchdog", str(staging), str(target), str(previous)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        staging.mkdir(mode=0o700)
        yield staging, previous
    finally:
        settle(staging, target, previous)  # what the watchdog would do, for a run ending here
        assert watchdog.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            watchdog.stdin.write(b"done")
            watchdog.stdin.close()
        watchdog.wait(timeout=30)


def _sequence_of(verdict: AssetVerdict, asset: Candidate, hashes: dict[str, str]) -> dict[str, Any]:
    """A packaged sequence: its signed record and every frame's payload path, SHA-256 and sidecar."""
    seq = verdict.report.sequence
    assert seq is not None and asset.sequence is not None, "a packaged sequence has a sequence report"
    return {
        "pattern": seq.pattern,
        "first": seq.first,
        "last": seq.last,
        "count": seq.count,
        "record": seq.record,
        "frames": [
            {
                "frame": number,
                "path": f"data/{frame.rel}",
                "sha256": hashes.get(f"data/{frame.rel}"),
                "sidecar": f"data/{frame.sidecar}" if frame.sidecar else None,
            }
            for (number, _), frame in zip(asset.sequence.frames, asset.frames, strict=True)
        ],
    }


def _sequence_hash(sequence: dict[str, Any]) -> str:
    """A sequence's SHA-256: its signed record's, else (a waived unsigned one) over its frames' hashes in order."""
    if sequence["record"]:
        return str(sequence["record"]).removeprefix("sha256:")
    return hashlib.sha256("".join(f["sha256"] or "" for f in sequence["frames"]).encode()).hexdigest()


def _summary_of(verdict: AssetVerdict, asset: Candidate, hashes: dict[str, str]) -> dict[str, Any]:
    report = verdict.report
    data_rel = f"data/{asset.rel}"
    signer = report.signer
    sequence = _sequence_of(verdict, asset, hashes) if asset.sequence is not None else None
    return {
        "path": data_rel,
        "sha256": _sequence_hash(sequence) if sequence is not None else hashes.get(data_rel),
        "sidecar": f"data/{asset.sidecar}" if asset.sidecar else None,
        **({"sequence": sequence} if sequence is not None else {}),
        "status": report.status,
        "manifest": report.active_manifest,
        "signer": {"common_name": signer.common_name, "organisation": signer.organisation, "issuer": signer.issuer}
        if signer
        else None,
        "genai": report.genai,
        "intended_use": verdict.intended_use,
        "genai_uses": [
            {
                "manifest": u.manifest,
                "tool": u.tool,
                "category": u.category,
                "source_type": u.source_type,
                "description": u.description,
                "declared": u.declared,
            }
            for u in report.genai_uses
        ],
        "clearances": [
            {
                "id": c.id,
                "kind": c.kind,
                "status": c.status,
                "covers": c.covers,
                "revocation_checked": c.revocation_checked,
                "revocation_source": c.revocation_source,
                "matched_by": c.matched_by,
            }
            for c in verdict.clearances
        ],
        "cleared": [{"rule_id": c.rule_id, "clearances": c.clearances} for c in verdict.evaluation.cleared],
        "waived": [
            {
                "rule_id": w.rule_id,
                "severity": w.severity,
                "title": w.title,
                "waiver_id": w.waiver_id,
                "reason": w.reason,
                "expires_at": w.expires_at,
                "issuer": w.issuer,
                "matched_by": w.matched_by,
            }
            for w in verdict.evaluation.waived
        ],
        "warnings": [
            {"rule_id": f.rule_id, "severity": f.severity, "title": f.title} for f in verdict.evaluation.findings
        ],
    }


def _manifest_hashes(bag_dir: Path) -> dict[str, str]:
    hashes = {}
    for line in (bag_dir / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        hashes[name] = digest
    return hashes


def _productions(verdicts: list[AssetVerdict]) -> list[str]:
    found = set()
    for v in verdicts:
        for info in v.report.manifests:
            production = info.disclosure.asset.production if info.disclosure is not None else None
            if production:
                found.add(str(production))
    return sorted(found)


def _waived(verdicts: list[AssetVerdict]) -> int:
    return sum(len(v.evaluation.waived) for v in verdicts)


def _write_bag(req: PackageRequest, staging: Path, found: Discovery, verdicts: list[AssetVerdict]) -> dict[str, Any]:
    carried = [rel for c in found.assets for rel in c.carried()]
    for rel in carried + found.structure:
        dest = staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(req.source / rel, dest)
    productions = _productions(verdicts)
    info = {
        "Source-Organization": req.organisation,
        "Bagging-Date": dt.date.today().isoformat(),
        "Bag-Software-Agent": f"genai-provenance {__version__}",
        "External-Description": "Final deliverable cleared by genai-provenance: every asset carries verified "
        "Content Credentials and every GenAI use is covered by a valid written approval"
        + (", except findings lifted by signed waivers (listed in the package report)." if _waived(verdicts) else "."),
        "External-Identifier": ", ".join(productions) or "unspecified",
        "Bag-Group-Identifier": req.source.resolve().name,
        "GenAI-Asset-Count": str(sum(v.report.genai for v in verdicts)),
        "Package-Report": REPORT_FILE,
    }
    cwd = os.getcwd()
    req.phase("bagging and hashing")
    try:
        bag = bagit.make_bag(str(staging), info, processes=max(1, req.workers), checksums=list(CHECKSUMS))
    finally:
        os.chdir(cwd)  # bagit changes directory while it works
    hashes = _manifest_hashes(staging)
    packager = req.packager.certificate.subject.rfc4514_string()
    report = {
        "format": REPORT_FORMAT,
        "created_at": iso(now_utc()),
        "tool": {"name": "genai-provenance", "version": __version__},
        "packager": packager,
        "organisation": req.organisation,
        "productions": productions,
        "policy": load_policy(Path(req.config.policy_path) if req.config.policy_path else None).name,
        "assets": [_summary_of(v, c, hashes) for c, v in zip(found.assets, verdicts, strict=True)],
        "excluded": found.excluded,
        "structure": [f"data/{rel}" for rel in found.structure],
        "summary": {
            "assets": len(verdicts),
            "genai": sum(v.report.genai for v in verdicts),
            "cleared": sum(len(v.evaluation.cleared) for v in verdicts),
            "warnings": sum(len(v.evaluation.findings) for v in verdicts),
            "waived": _waived(verdicts),
        },
    }
    body = (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    (staging / REPORT_FILE).parent.mkdir(parents=True, exist_ok=True)
    (staging / REPORT_FILE).write_bytes(body)
    signature = {"format": SIGNATURE_FORMAT, "signed_file": REPORT_FILE, "signature": sign_bytes(body, req.packager)}
    (staging / SIGNATURE_FILE).write_text(json.dumps(signature, indent=2) + "\n", encoding="utf-8")
    try:
        bag.save()  # tag manifests now cover the report and its signature
    finally:
        os.chdir(cwd)
    return report


def run_package(req: PackageRequest) -> PackageResult:
    """Check every file under the source; write the package only when nothing blocks."""
    _check_paths(req)
    if req.cluster is not None:
        req.cluster.require_authenticated("package")
    sweep_stale_staging(req.target.resolve().parent)
    sweep_dead_temps(req.target.resolve().parent)
    found = discover(req.source, req.excludes, default_ignores=req.default_ignores)
    if not found.assets and not found.stray:
        raise InputError(f"{req.source}: folder holds no files to package")
    if req.on_total:
        req.on_total(len(found.assets))
    config = dataclasses.replace(req.config, intended_use="final")
    budget = worker_budget([f.path for c in found.assets for f in (c.frames or (c,))], req.workers)
    req = dataclasses.replace(req, workers=budget.workers)
    with check_pool(config, req.workers) as pool:  # one set of workers for both checking passes (local)
        with _executor(req, config, pool) as executor:
            verdicts = executor.check([(c.target, c.rel) for c in found.assets], req.progress)
        result = PackageResult(req.source, req.target, verdicts, found, notes=[budget.reason] if budget.reason else [])
        if result.blocked:
            return result
        _stage_and_rename(req, result, config, pool)
    result.written = True
    return result


def _executor(req: PackageRequest, config: CheckConfig, pool: Any) -> contextlib.AbstractContextManager[Any]:
    """The local pool, or the cluster (connected for the checking phase only)."""
    if req.cluster is not None:
        return open_executor(config, req.workers, req.cluster)
    return contextlib.nullcontext(LocalPool(config, req.workers, pool))


def _stage_and_rename(req: PackageRequest, result: PackageResult, config: CheckConfig, pool: Any) -> None:
    with _staging(req.target) as (staging, previous):
        result.report = _write_bag(req, staging, result.discovery, result.verdicts)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp made it 0700; a package is an ordinary folder
        req.phase("re-checking the staged package")
        check = verify_package(staging, config, workers=req.workers, pool=pool)
        if not check.ok:
            raise InputError(f"{req.target}: staged package failed its own verification: {check.problems[0]}")
        if req.target.exists():
            os.replace(req.target, previous)
            os.replace(staging, req.target)
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.replace(staging, req.target)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
