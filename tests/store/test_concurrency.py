"""Claims from many threads and processes: exact run_cap, no grid point twice, crash detection."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import nbsweep
from nbsweep.controller import claim_next_run
from nbsweep.store import open_store


def _claim_all(store_path: str, sweep_id: str, out: list | None = None) -> list[str]:
    store = open_store(store_path)
    mine = []
    while True:
        claim = claim_next_run(store, sweep_id)
        if claim.run is None:
            break
        mine.append(claim.run.grid_key or claim.run.id)
        store.set_run_state(claim.run.id, "finished")
    if out is not None:
        out.extend(mine)
    return mine


def _process_worker(store_path: str, sweep_id: str, queue) -> None:
    queue.put(_claim_all(store_path, sweep_id))


def _check(store_path: str, sweep_id: str, expected: int) -> None:
    runs = open_store(store_path).sweep_runs(sweep_id)
    assert len(runs) == expected
    keys = [r.grid_key for r in runs]
    assert len(set(keys)) == len(keys)
    assert sorted(r.seq for r in runs) == list(range(expected))


def test_threads_never_share_a_grid_point_and_stop_at_run_cap(store_path):
    cfg = {"method": "grid", "run_cap": 37, "parameters": {"a": {"values": list(range(50))}}}
    sweep_id = nbsweep.sweep(cfg)
    got: list[str] = []
    threads = [
        threading.Thread(target=_claim_all, args=(str(store_path), sweep_id, got))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 37 == len(set(got))
    _check(str(store_path), sweep_id, 37)


@pytest.mark.parametrize("cap", [37, None])
def test_processes_never_share_a_grid_point_and_stop_at_run_cap(store_path, cap):
    cfg = {"method": "grid", "parameters": {"a": {"values": list(range(50))}}}
    if cap:
        cfg["run_cap"] = cap
    sweep_id = nbsweep.sweep(cfg)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_process_worker, args=(str(store_path), sweep_id, queue))
        for _ in range(4)
    ]
    for p in procs:
        p.start()
    per_process = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    claimed = [k for chunk in per_process for k in chunk]
    expected = cap or 50
    assert len(claimed) == expected == len(set(claimed))
    _check(str(store_path), sweep_id, expected)


def test_random_run_cap_is_exact_across_processes(store_path):
    cfg = {"method": "random", "run_cap": 60, "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    sweep_id = nbsweep.sweep(cfg)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_process_worker, args=(str(store_path), sweep_id, queue))
        for _ in range(3)
    ]
    for p in procs:
        p.start()
    counts = [len(queue.get(timeout=120)) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert sum(counts) == 60
    assert nbsweep.Sweep(sweep_id).state == "FINISHED"


def test_killed_agent_leaves_a_crashed_run_and_flushed_history(store_path, tmp_path):
    """SIGKILL a process mid-run: rows flushed before survive, the run becomes crashed."""
    cfg = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"a": {"values": [1, 2]}}}
    sweep_id = nbsweep.sweep(cfg)
    marker = tmp_path / "logged"
    script = textwrap.dedent(
        f"""
        import time, nbsweep, pathlib
        def train():
            run = nbsweep.init()
            for step in range(5):
                run.log({{"loss": 1.0 / (step + 1)}})
            time.sleep(1.5)  # the writer flushes at least twice a second
            pathlib.Path({str(marker)!r}).write_text(run.id)
            time.sleep(600)
        nbsweep.agent({sweep_id!r}, function=train, count=1, verbose=False)
        """
    )
    env = dict(os.environ, NBSWEEP_STORE=str(store_path))
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline, "the agent never started its run"
            assert proc.poll() is None, "the agent process ended early"
            time.sleep(0.1)
        run_id = marker.read_text()
        assert open_store(store_path).get_run(run_id).state == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    store = open_store(store_path)
    assert [row["loss"] for row in store.history(run_id)] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    claim = claim_next_run(store, sweep_id)  # the next claim notices the dead process
    crashed = store.get_run(run_id)
    assert crashed.state == "crashed" and "gone" in crashed.stop_reason
    assert claim.run.config == {"a": 2}  # the crashed run's grid point stays used
    sweep = nbsweep.Sweep(sweep_id)
    assert Counter(r.state for r in sweep.runs) == Counter({"crashed": 1, "running": 1})


def test_stale_heartbeat_marks_a_run_crashed(store_path, monkeypatch):
    monkeypatch.setenv("NBSWEEP_CRASH_GRACE_S", "0.2")
    cfg = {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    sweep_id = nbsweep.sweep(cfg)
    store = open_store(store_path)
    run = claim_next_run(store, sweep_id).run
    time.sleep(0.5)
    claim_next_run(store, sweep_id)
    assert store.get_run(run.id).state == "crashed"
    # an agent that was only stalled may still finish its run
    store.write_progress(
        run.id,
        metrics=[],
        objects=[],
        summary=None,
        metric=None,
        last_step=None,
        finish={"state": "finished"},
    )
    assert store.get_run(run.id).state == "finished"


def test_reader_does_not_hold_a_transaction_open(store_path):
    store = open_store(store_path)
    sweep_id = nbsweep.sweep({"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    store.sweep_runs(sweep_id)
    assert not store.read().in_transaction


def test_store_location_argument_env_and_default(tmp_path, monkeypatch):
    explicit = tmp_path / "a" / "explicit.db"
    sweep_id = nbsweep.sweep(
        {"method": "grid", "parameters": {"a": {"values": [1]}}}, store=explicit
    )
    assert explicit.exists() and nbsweep.Sweep(sweep_id, store=explicit).id == sweep_id
    with pytest.raises(nbsweep.StoreNotFoundError, match="no nbsweep store"):
        nbsweep.Sweep(sweep_id)  # the env store does not exist, and is not created by reading
    monkeypatch.delenv("NBSWEEP_STORE")
    monkeypatch.chdir(tmp_path)
    other = nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1]}}})
    assert (Path(tmp_path) / "nbsweep.db").exists()
    assert nbsweep.Sweep(other).id == other
    monkeypatch.setenv("NBSWEEP_STORE", f"sqlite:///{tmp_path / 'url.db'}")
    nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1]}}})
    assert (tmp_path / "url.db").exists()


def test_unknown_sweep_id_suggests_a_close_one(store_path):
    sweep_id = nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1]}}})
    with pytest.raises(nbsweep.SweepNotFoundError, match=f"did you mean '{sweep_id}'"):
        nbsweep.Sweep(sweep_id[:-1] + ("x" if sweep_id[-1] != "x" else "y"))


def test_bad_config_stores_nothing_and_keeps_what_was_stored(store_path):
    good = nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1]}}})
    with pytest.raises(nbsweep.ConfigError):
        nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": []}}})
    assert [s.id for s in open_store().list_sweeps()] == [good]
