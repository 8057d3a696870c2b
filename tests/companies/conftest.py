"""Fixtures of the companies tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _throwaway_audit_log_key(settings, tmp_path):
    """Never touch var/audit-log-key.pem, whatever a test ends up signing."""
    settings.AUDIT_LOG_KEY_FILE = str(tmp_path / "audit-log-key.pem")
