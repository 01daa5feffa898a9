"""Fixtures shared by the test suite: a fresh SQLite store per test, and test data."""

from __future__ import annotations

from pathlib import Path

import pytest


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
