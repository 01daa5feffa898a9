"""Adversarial tests: the SQLite store file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import nbsweep

pytestmark = pytest.mark.filterwarnings("ignore::nbsweep.NbsweepWarning")


def test_sweep_after_store_file_deleted_is_persisted(tmp_path: Path) -> None:
    store = tmp_path / "nb.db"
    cfg = {"method": "grid", "parameters": {"x": {"values": [1]}}}
    nbsweep.sweep(cfg, store=store)
    for name in os.listdir(tmp_path):
        os.remove(tmp_path / name)
    sweep_id = nbsweep.sweep(cfg, store=store)
    code = f"import sys, nbsweep; print(nbsweep.Sweep({sweep_id!r}, store={str(store)!r}).state)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "RUNNING" in result.stdout, result.stderr[-1000:]
