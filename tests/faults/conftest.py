"""Fault suite fixtures (the summary lines are repeated at the end of the run by the root conftest)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _quick_in_doubt(monkeypatch):
    """Unknown outcomes wait seconds, not minutes, for the provider's status in this suite."""
    monkeypatch.setenv("IN_DOUBT_WAIT_SMS", "1")
    monkeypatch.setenv("IN_DOUBT_WAIT_GOOGLE_WALLET", "0")
