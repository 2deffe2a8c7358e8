"""Shared fixtures: real certificates, a real workspace, the bundled media."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "fixtures" / "media"
DISCLOSURES = ROOT / "fixtures" / "disclosures"
