"""Locate the shared test vectors (``/work/shared/testvectors`` next to the repo).

The folder is not part of the repository; tests that need it skip cleanly
when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

VECTORS: Path = Path(__file__).resolve().parents[2].parent / "shared" / "testvectors"


def require_vectors(sub: str) -> Path:
    """Return ``VECTORS / sub`` or skip the calling test if it does not exist."""
    path = VECTORS / sub
    if not path.exists():
        pytest.skip(f"test vectors not available: {path}")
    return path
