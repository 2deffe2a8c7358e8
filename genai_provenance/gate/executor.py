"""Where assets are checked: this machine's worker processes or a Dask cluster, behind one interface."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from genai_provenance.gate.memory_budget import worker_budget

if TYPE_CHECKING:
    from genai_provenance.gate.check import AssetVerdict, CheckConfig
    from genai_provenance.gate.cluster import ClusterTarget
    from genai_provenance.gate.discovery import Target
    from genai_provenance.model.provenance import CheckedAsset

Progress = Callable[[int], None]


class AssetExecutor(Protocol):
    """Checks assets and returns one result per asset, in order, whichever machines did the work."""

    note: str | None  # why fewer workers run than were asked for (memory), else None

    def check(self, items: list[tuple[Target, str | None]], progress: Progress | None = None) -> list[AssetVerdict]:
        """`check`: (file or sequence, display name or None for its own) pairs judged against the policy."""
        ...

    def verify(self, targets: list[Target], progress: Progress | None = None) -> list[CheckedAsset]:
        """`verify`: credentials and the clearances they cite."""
        ...


@contextlib.contextmanager
def open_executor(
    config: CheckConfig, workers: int, cluster: ClusterTarget | None = None, files: Sequence[Path] = ()
) -> Iterator[AssetExecutor]:
    """A Dask cluster when `cluster` is given (connected and its workers' version checked), else local processes:
    `workers` of them, fewer when the largest of `files` would not fit in memory together (gate/memory_budget.py)."""
    if cluster is not None:
        from genai_provenance.gate.cluster import connect

        with connect(cluster, config) as remote:
            yield remote
        return
    from genai_provenance.gate.pool import LocalPool, check_pool

    if files:  # no more worker processes than files: one file is checked here, with no pool to start
        workers = min(workers, len(files))
    budget = worker_budget(files, workers)
    with check_pool(config, budget.workers) as pool:
        yield LocalPool(config, budget.workers, pool, budget.reason)
