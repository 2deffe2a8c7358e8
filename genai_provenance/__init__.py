"""genai-provenance: signed GenAI disclosures as C2PA Content Credentials for film and TV."""

from __future__ import annotations

__version__ = "0.1.0"
