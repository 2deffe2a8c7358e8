"""The warm-up thread that loads the schema code while c2pa hashes a large file (credentials/warmup.py)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from genai_provenance.credentials import warmup
from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.gate.pool import pool_context
from genai_provenance.model.vocabulary import Status
from genai_provenance.workspace import Workspace


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """A process without a warm-up yet, whose warm-up takes a noticeable time and says when it is done."""
    done = threading.Event()

    def slow_warm() -> None:
        time.sleep(0.3)
        done.set()

    monkeypatch.setattr(warmup, "_thread", None)
    monkeypatch.setattr(warmup, "_warm", slow_warm)
    return done


def test_a_small_file_never_starts_it(fresh: threading.Event, sign_media: Any, workspace: Workspace) -> None:
    signed = sign_media("plate.jpg", "plate.json").output
    report = verify_file(signed, TrustSettings(workspace.trust_anchors()).context())
    assert report.status == Status.TRUSTED
    assert warmup._thread is None, "small reads must not start a thread that competes for the GIL"


def test_a_bulk_read_starts_it_and_a_pool_waits_for_it(
    fresh: threading.Event, sign_media: Any, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warmup, "BULK_READ", 1024)  # the fixture MP4 read in bulk as a long master would be
    signed = sign_media("plate.mp4", "plate.json").output
    report = verify_file(signed, TrustSettings(workspace.trust_anchors()).context())
    assert report.status == Status.TRUSTED  # the wrapped stream reads what c2pa would read itself
    assert warmup._thread is not None
    warmup._thread.join()
    joined: list[bool] = []
    monkeypatch.setattr(warmup, "_thread", SimpleNamespace(join=lambda: joined.append(True)))
    pool_context()  # a fork must not copy the warm-up thread half-way through an import
    assert joined == [True], "pool_context did not wait for the warm-up"
