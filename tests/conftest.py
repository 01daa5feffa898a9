"""Fixtures shared by the test suite: a fresh SQLite store per test, and test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the default store at this test's temp dir, so no test writes ./nbsweep.db."""
    path = tmp_path / "nbsweep.db"
    monkeypatch.setenv("NBSWEEP_STORE", str(path))
    monkeypatch.delenv("NBSWEEP_RUN_ID", raising=False)
    return path


@pytest.fixture
def store_path(_isolated_store: Path) -> Path:
    """Path of this test's store file."""
    return _isolated_store


# Property tests draw the same examples on every run, so a test run is repeatable; set
# NBSWEEP_EXPLORE=1 to draw fresh ones (and more of them) when hunting for bugs.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", max_examples=2000)
settings.load_profile("explore" if os.environ.get("NBSWEEP_EXPLORE") else "repeatable")
