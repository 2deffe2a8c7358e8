"""Checking on a Dask distributed cluster: the AssetExecutor for `--cluster tcp://HOST:PORT`.

Workers do the expensive, file-bound part: reading each asset's credentials (c2pa, hashing every
byte), from storage mounted at the same path on every node. Clearances, policy and waivers are
judged here, on the calling machine, with the same code as a local run: workers never need the
ledger, the policy or the workspace, so a worker cannot judge against a different ledger.

Dask re-runs the tasks of a worker that dies; each asset has one task and one result, taken in
order. An asset whose task ultimately fails (every worker lost, a worker that cannot see the file,
a different version) is reported unreadable and blocks (GP-CLUSTER-001): never dropped, never passed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genai_provenance import __version__
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sequence_pattern import FrameSequence
from genai_provenance.errors import InputError, ProvenanceError
from genai_provenance.gate.check import AssetVerdict, CheckConfig, check_clearances, verdict_for
from genai_provenance.gate.discovery import Target
from genai_provenance.gate.sequences import file_hash, verify_target
from genai_provenance.model.provenance import NOT_CHECKED, UNREADABLE, AssetReport, CheckedAsset, Failure
from genai_provenance.policy.rules import BLOCK, Finding
from genai_provenance.safe_text import clip

EXTRA = "install genai-provenance[cluster]"
SCHEMES = ("tcp://", "tls://")
DEFAULT_TIMEOUT_S = 10.0
RETRIES = 2  # a task that raises runs again (elsewhere if it can); a dead worker's tasks always run again
POLL_S = 0.5
TASK_PREFIX = "genai-provenance-read"
RULE = "GP-CLUSTER-001"
FAILURE_CODE = "cluster.notChecked"
REMEDY = (
    "Run again; every worker must mount the files at the same path and run the same genai-provenance version, "
    "and enough workers must stay up."
)


@dataclass(frozen=True)
class ClusterTarget:
    """A Dask scheduler to check on, and how long to wait for it (and for a worker) before giving up."""

    address: str
    timeout: float = DEFAULT_TIMEOUT_S
    insecure: bool = False  # --insecure-cluster: accept tcp:// (unauthenticated workers) for the final gate

    @property
    def authenticated(self) -> bool:
        """tls:// with Dask's mutual certificates: only holders of a node certificate can join as workers."""
        return self.address.startswith("tls://")

    def require_authenticated(self, command: str) -> None:
        """The final gate trusts workers' answers: over tcp:// anyone who reaches the scheduler can answer."""
        if not self.authenticated and not self.insecure:
            raise InputError(
                f"{command} --cluster {clip(self.address)}: tcp:// workers are not authenticated (a machine that "
                "can reach the scheduler could join and report any asset as trusted); use tls:// with Dask's "
                "mutual certificates, or --insecure-cluster to accept that on a closed render-farm network"
            )

    def __post_init__(self) -> None:
        if not self.address.startswith(SCHEMES) or len(self.address) <= len("tcp://"):
            raise InputError(f"--cluster {clip(self.address)}: not a scheduler address (tcp://HOST:PORT or tls://...)")
        if not self.timeout > 0:
            raise InputError(f"--cluster-timeout must be more than 0 seconds, not {self.timeout:g}")


@dataclass(frozen=True)
class ReadJob:
    """One asset for a worker: everything it needs, picklable, nothing from this machine's workspace."""

    target: Target  # a file or an image sequence, with absolute paths: a worker has its own working folder
    display: str  # the name the report uses (as given on the command line)
    trust: TrustSettings
    version: str  # this genai-provenance's version: a worker running another refuses


@dataclass(frozen=True)
class WorkerRead:
    report: AssetReport
    worker: str  # the worker's address
    sequence_hash: str | None = None  # a sequence's content hash (its record's); a file's is taken here when asked

    def content_hash(self, path: Path) -> Callable[[], str]:
        """What clearances and waivers scoped to content match."""
        if self.sequence_hash is not None:
            digest = self.sequence_hash
            return lambda: digest
        return file_hash(path)


class WorkerMismatch(RuntimeError):
    """A worker cannot do this job as this machine would (another version, the file not mounted)."""


_THREAD = threading.local()


def read_on_worker(job: ReadJob) -> WorkerRead:
    """The task: read one asset's credentials on a Dask worker (one c2pa context per thread and trust)."""
    from distributed import get_worker

    address = get_worker().address
    if job.version != __version__:
        raise WorkerMismatch(f"worker {address} runs genai-provenance {__version__}, not {job.version}")
    for path in _files_of(job.target):
        if not os.path.lexists(path):
            raise WorkerMismatch(f"worker {address} cannot see {path} (mount it at the same path)")
    contexts: dict[TrustSettings, Any] = _THREAD.__dict__.setdefault("contexts", {})
    if job.trust not in contexts:
        contexts[job.trust] = job.trust.context()
    found = verify_target(job.target, contexts[job.trust], job.trust, job.display)
    sequence_hash = found.content_hash() if found.report.sequence is not None else None
    return WorkerRead(found.report, address, sequence_hash)


def _files_of(target: Target) -> list[Path]:
    return [p for _, p in target.frames] if isinstance(target, FrameSequence) else [target]


def _absolute(target: Target) -> Target:
    """The same file or sequence named from the root: workers run in other folders."""
    if isinstance(target, FrameSequence):
        pattern = dataclasses.replace(target.pattern, folder=target.pattern.folder.absolute())
        return FrameSequence(pattern, tuple((n, p.absolute()) for n, p in target.frames))
    return target.absolute()


def display_of(target: Target, display: str | None) -> str:
    """The name a local run reports a target under."""
    if display is not None:
        return display
    return str(target.path) if isinstance(target, FrameSequence) else str(target)


def worker_version() -> str:
    """Run on every worker at connect time."""
    return __version__


def not_checked_report(display: str, reason: str) -> AssetReport:
    """What is reported for an asset whose task failed: unreadable, with the reason."""
    report = AssetReport(path=display, format=None, status=UNREADABLE)
    report.error = f"not checked: {reason}"
    report.failures.append(Failure(FAILURE_CODE, f"The asset was not checked: {reason}", where="cluster"))
    return report


def _blocking(display: str, reason: str) -> Finding:
    title = "Asset not checked: its task failed on the cluster"
    return Finding(RULE, BLOCK, None, title, {"asset": display, "status": UNREADABLE, "problems": [reason]}, REMEDY)


class DaskCluster:
    """The AssetExecutor of a Dask cluster (gate/executor.py): workers read, this machine judges."""

    note: str | None = None  # workers size themselves (`dask worker --nworkers/--memory-limit`)

    def __init__(self, client: Any, config: CheckConfig, target: ClusterTarget) -> None:
        self.client, self.target = client, target
        self.settings = config.build()  # ledger, policy, clearances: opened here only
        self.verify_trust = config.trust or self.settings.trust

    def check(
        self, items: list[tuple[Target, str | None]], progress: Callable[[int], None] | None = None
    ) -> list[AssetVerdict]:
        named = [(t, display_of(t, d)) for t, d in items]
        reads = self._read(named, self.settings.trust, progress)
        verdicts = []
        for (target, display), read in zip(named, reads, strict=True):
            path = target if isinstance(target, Path) else Path(display)
            if isinstance(read, WorkerRead):
                verdict = verdict_for(read.report, path, self.settings, read.content_hash(path))
                verdicts.append(dataclasses.replace(verdict, checked_on=read.worker))
                continue
            verdict = verdict_for(not_checked_report(display, read), path, self.settings)
            verdict.evaluation.findings.insert(0, _blocking(display, read))  # whatever the policy says
            verdicts.append(dataclasses.replace(verdict, checked_on=NOT_CHECKED))
        return verdicts

    def verify(self, targets: list[Target], progress: Callable[[int], None] | None = None) -> list[CheckedAsset]:
        named = [(t, display_of(t, None)) for t in targets]
        reads = self._read(named, self.verify_trust, progress)
        assets = []
        for (target, display), read in zip(named, reads, strict=True):
            path = target if isinstance(target, Path) else Path(display)
            if isinstance(read, WorkerRead):
                clearances = check_clearances(read.report, path, self.settings.clearances, read.content_hash(path))
                assets.append(CheckedAsset(read.report, clearances, read.worker))
            else:
                assets.append(CheckedAsset(not_checked_report(display, read), (), NOT_CHECKED))
        return assets

    def _read(
        self, items: list[tuple[Target, str]], trust: TrustSettings, progress: Callable[[int], None] | None
    ) -> list[WorkerRead | str]:
        """One task per asset; each result (or why it has none) in the order given."""
        if not items:
            return []
        jobs = [ReadJob(_absolute(t), d, trust, __version__) for t, d in items]
        run = secrets.token_hex(6)
        keys = [f"{TASK_PREFIX}-{run}-{i}" for i in range(len(jobs))]
        futures = self.client.map(read_on_worker, jobs, key=keys, retries=RETRIES)
        results: list[WorkerRead | str | None] = [None] * len(jobs)
        try:
            with self.client.as_current():  # distributed.wait asks for the current client
                self._collect(futures, results, progress)
        finally:
            with contextlib.suppress(Exception):
                self.client.cancel(futures)
        return [_matching(r, display) for r, (_, display) in zip(results, items, strict=True)]

    def _collect(
        self, futures: list[Any], results: list[WorkerRead | str | None], progress: Callable[[int], None] | None
    ) -> None:
        from distributed import wait

        position = {f.key: i for i, f in enumerate(futures)}
        pending = set(futures)
        idle_since: float | None = None
        while pending:
            try:
                done, pending = wait(  # type: ignore[no-untyped-call]  # distributed.wait has no annotations
                    list(pending), timeout=POLL_S, return_when="FIRST_COMPLETED"
                )
            except TimeoutError:
                done = set()
            except Exception as exc:  # the scheduler is gone: nothing more will come back
                self._give_up(pending, results, position, f"lost the scheduler ({exc.__class__.__name__})")
                break
            self._take(done, results, position)
            if progress and done:
                progress(len(done))
            if done or not pending:
                idle_since = None
                continue
            idle_since = self._still_waiting(idle_since)
            if idle_since is not None and time.monotonic() - idle_since > self.target.timeout:
                why = f"no worker left on the cluster for {self.target.timeout:g} s"
                self._give_up(pending, results, position, why)
                break

    def _take(self, done: set[Any], results: list[WorkerRead | str | None], position: dict[Any, int]) -> None:
        """The results of finished tasks, fetched in one round trip; why each other task has none."""
        finished = [f for f in done if f.status == "finished"]
        try:
            values = self.client.gather(finished) if finished else []
        except Exception as exc:  # the connection went while fetching: these assets stay unchecked
            values = [f"result lost on its way back ({exc.__class__.__name__})"] * len(finished)
        for future, value in zip(finished, values, strict=True):
            ok = isinstance(value, WorkerRead | str)
            results[position[future.key]] = value if ok else "a worker returned something that is not a report"
        for future in done:
            if future.status != "finished":
                results[position[future.key]] = _failure(future)

    def _still_waiting(self, idle_since: float | None) -> float | None:
        """When the cluster has had no worker since (None: it has workers)."""
        try:
            workers = len(self.client.nthreads())
        except Exception:
            workers = 0
        if workers:
            return None
        return idle_since if idle_since is not None else time.monotonic()

    def _give_up(self, pending: set[Any], results: list[Any], position: dict[Any, int], why: str) -> None:
        for future in pending:
            results[position[future.key]] = why


def _matching(result: WorkerRead | str | None, display: str) -> WorkerRead | str:
    """A result only counts for the asset it was asked about."""
    if result is None:
        return "no result came back"
    if isinstance(result, WorkerRead) and result.report.path != display:
        return f"worker {result.worker} answered for another file"
    return result


def _failure(future: Any) -> str:
    """Why a task has no result (an input error is raised, as a local run raises it)."""
    try:
        exc = future.exception() if future.status == "error" else None
    except Exception as lost:
        return f"task {future.status}, its error lost ({lost.__class__.__name__})"
    if isinstance(exc, ProvenanceError):
        raise exc
    if exc is not None:
        return f"task failed: {exc.__class__.__name__}: {clip(str(exc))}"
    return f"task {future.status} on the cluster"


QUIET_LOGGERS = ("distributed", "tornado", "asyncio")


@contextlib.contextmanager
def quiet_dask() -> Iterator[None]:
    """Dask's own log lines and warnings stay off stderr: errors are ours, one line each.

    Its loggers stay quiet for the rest of the process: a client's event-loop thread can still log
    (a lost scheduler, a cancelled reconnect) after the client is closed.
    """
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in QUIET_LOGGERS]
    for name in {*QUIET_LOGGERS, *names}:  # Dask gives some of its child loggers their own stderr handler
        log = logging.getLogger(name)
        log.handlers, log.propagate = [logging.NullHandler()], False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _client_class() -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise InputError(f"--cluster needs Dask: {EXTRA}") from None
    return Client


@contextlib.contextmanager
def connect(target: ClusterTarget, config: CheckConfig) -> Iterator[DaskCluster]:
    """A client of the scheduler, once a worker is there and every worker runs this version."""
    client_class = _client_class()
    if target.address.startswith("tls://"):
        _check_tls_settings(target)
    with quiet_dask():
        try:
            client = client_class(target.address, timeout=target.timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            why = "not reachable" if isinstance(exc, OSError | TimeoutError) else "not a scheduler address"
            raise InputError(
                f"--cluster {target.address}: Dask scheduler {why} (waited {target.timeout:g} s)"
            ) from None
        try:
            _check_workers(client, target)
            yield DaskCluster(client, config, target)
        finally:
            with contextlib.suppress(Exception):
                client.close()


def _check_tls_settings(target: ClusterTarget) -> None:
    """tls:// takes its CA and client certificate from Dask's configuration; refuse early when it has none."""
    from distributed.security import Security

    security = Security()  # type: ignore[no-untyped-call]  # distributed.security has no annotations
    if not (getattr(security, "tls_ca_file", None) and getattr(security, "tls_client_cert", None)):
        raise InputError(
            f"--cluster {target.address}: tls:// needs Dask's TLS settings: set DASK_DISTRIBUTED__COMM__TLS__CA_FILE, "
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY "
            "(or distributed.comm.tls in a Dask config file)"
        )


def _check_workers(client: Any, target: ClusterTarget) -> None:
    try:
        client.wait_for_workers(1, timeout=target.timeout)
    except TimeoutError:
        raise InputError(f"--cluster {target.address}: no Dask worker joined within {target.timeout:g} s") from None
    versions = client.run(worker_version, on_error="return")
    for address, version in sorted(versions.items()):
        if version != __version__:
            got = f"genai-provenance {clip(str(version))}" if isinstance(version, str) else "no usable genai-provenance"
            raise InputError(
                f"--cluster {target.address}: worker {address} has {got}, this is {__version__}: "
                "install the same version on every worker"
            )
