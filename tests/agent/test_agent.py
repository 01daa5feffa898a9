"""The function agent: count, failures, stop, interrupts, output capture, state leaks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter

import pytest
from testdata import case

import nbsweep
from nbsweep import AgentWarning, MetricWarning
from nbsweep.store import open_store


def run_agent(sweep_id, function, **kwargs):
    kwargs.setdefault("verbose", False)
    return nbsweep.agent(sweep_id, function=function, **kwargs)


def states(sweep_id) -> Counter:
    return Counter(r.state for r in nbsweep.Sweep(sweep_id).runs)


def test_count_runs_that_many_and_returns_in_a_script():
    sweep_id = nbsweep.sweep({"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    calls = []
    handle = run_agent(sweep_id, lambda: calls.append(nbsweep.init().config.x), count=3)
    assert len(calls) == 3 and not handle.is_alive()
    assert handle.progress.state == "finished" and handle.progress.finished == 3
    assert "count of 3" in handle.progress.message


def test_count_must_be_positive():
    sweep_id = nbsweep.sweep({"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="count must be a whole number >= 1"):
            run_agent(sweep_id, lambda: None, count=bad)
    assert nbsweep.Sweep(sweep_id).runs == []


def test_br15_failures_fail_their_run_and_the_agent_goes_on():
    sweep_id = nbsweep.sweep(case("BR-15")["config"], seed=4)

    def train():
        run = nbsweep.init()
        if run.config.lr > 0.05:
            raise ValueError("diverged")
        run.log({"loss": run.config.lr})

    handle = run_agent(sweep_id, train, count=20, max_consecutive_failures=None)
    runs = nbsweep.Sweep(sweep_id).runs
    assert len(runs) == 20
    failed = [r for r in runs if r.state == "failed"]
    assert failed and all(r.config["lr"] > 0.05 for r in failed)
    assert all(
        r.error.startswith("ValueError: diverged") and "Traceback" in r.error for r in failed
    )
    assert all(r.state == "finished" for r in runs if r.config["lr"] <= 0.05)
    assert len(handle.errors) == len(failed) and handle.errors[0].type == "ValueError"
    best = nbsweep.Sweep(sweep_id).best_run
    assert best.state == "finished"


@pytest.mark.parametrize("limit", [5, 2])
def test_br15_consecutive_failures_stop_the_agent_naming_the_error(limit):
    sweep_id = nbsweep.sweep(case("BR-15")["config"])

    def always_fail():
        nbsweep.init()
        raise IndexError("list index out of range")

    handle = run_agent(sweep_id, always_fail, count=50, max_consecutive_failures=limit)
    assert handle.progress.state == "failed"
    assert handle.progress.failed == limit == len(nbsweep.Sweep(sweep_id).runs)
    assert f"{limit} failed runs in a row" in handle.progress.message
    assert "IndexError: list index out of range" in handle.progress.message


def test_br15_a_run_that_logs_nothing_finishes_without_a_metric():
    sweep_id = nbsweep.sweep(case("BR-15")["config"])
    with pytest.warns(MetricWarning, match="'loss' was never logged"):
        run_agent(sweep_id, lambda: nbsweep.init(), count=2)
    runs = nbsweep.Sweep(sweep_id).runs
    assert [r.state for r in runs] == ["finished", "finished"]
    assert all(r.metric_value is None for r in runs)
    assert nbsweep.Sweep(sweep_id).best_run is None


def test_br14_run_cap_across_agents_failed_runs_count():
    spec = case("BR-14")["config"]
    sweep_id = nbsweep.sweep(spec, seed=0)

    def train():
        run = nbsweep.init()
        if run.config.x > 0.9:
            raise RuntimeError("simulated failure")
        run.log({"loss": run.config.x})

    a = run_agent(sweep_id, train, count=4)
    b = run_agent(sweep_id, train, count=4)
    assert (a.progress.started, b.progress.started) == (4, 1)
    assert len(nbsweep.Sweep(sweep_id).runs) == 5
    assert nbsweep.Sweep(sweep_id).state == "FINISHED"
    assert "run_cap 5 reached" in b.progress.message
    c = run_agent(sweep_id, train)
    assert c.progress.started == 0 and "run_cap 5 reached" in c.progress.message


def test_br14_parallel_background_agents_stop_at_run_cap():
    sweep_id = nbsweep.sweep(case("BR-14")["config"], seed=1)

    def train():
        run = nbsweep.init()
        time.sleep(0.01)
        run.log({"loss": run.config.x})

    with pytest.warns(AgentWarning, match="already running sweep"):
        handles = [run_agent(sweep_id, train, count=4, background=True) for _ in range(3)]
    assert all(h.wait(30) for h in handles)
    assert sum(h.progress.started for h in handles) == 5
    assert len(nbsweep.Sweep(sweep_id).runs) == 5


def _slow_train(steps=200, pause=0.02):
    def train():
        run = nbsweep.init()
        for step in range(steps):
            time.sleep(pause)
            run.log({"loss": run.config.i + 1.0 / (step + 1)})

    return train


def test_br16_background_stop_ends_the_run_as_stopped_at_next_log():
    sweep_id = nbsweep.sweep(case("BR-16")["config"])
    handle = run_agent(sweep_id, _slow_train(), background=True)
    deadline = time.monotonic() + 10
    while handle.progress.current_run is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)
    handle.stop()
    assert handle.wait(5) and not handle.is_alive()
    handle._thread.join(1)
    assert not handle._thread.is_alive()
    runs = nbsweep.Sweep(sweep_id).runs
    assert [r.state for r in runs] == ["stopped"]
    assert runs[0].stop_reason == "stopped by user"
    steps = runs[0].last_step
    time.sleep(0.3)
    assert nbsweep.Sweep(sweep_id).runs[0].last_step == steps  # no orphan thread logging


def test_stop_request_with_no_more_logs_ends_the_run_stopped_when_it_returns():
    sweep_id = nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1, 2]}}})
    started, release = threading.Event(), threading.Event()

    def train():
        nbsweep.init()
        started.set()
        release.wait(5)

    handle = run_agent(sweep_id, train, background=True)
    assert started.wait(5)
    handle.stop()
    release.set()
    assert handle.wait(5)
    assert [r.state for r in nbsweep.Sweep(sweep_id).runs] == ["stopped"]


def test_br16_interrupt_stops_the_run_and_a_rerun_finishes_the_grid():
    """Ctrl-C (SIGINT) in a foreground agent: the run is stopped, later points do not start."""
    sweep_id = nbsweep.sweep(case("BR-16")["config"])
    seen = []

    def train():
        run = nbsweep.init()
        seen.append(run.config.i)
        if run.config.i == 1:
            threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
        for step in range(30):
            time.sleep(0.02)
            run.log({"loss": run.config.i + 1.0 / (step + 1)})

    started = time.monotonic()
    handle = run_agent(sweep_id, train)
    assert time.monotonic() - started < 5
    assert handle.progress.state == "stopped" and "interrupted" in handle.progress.message
    assert seen == [0, 1]
    runs = nbsweep.Sweep(sweep_id).runs
    assert [(r.config["i"], r.state) for r in runs] == [(0, "finished"), (1, "stopped")]
    assert runs[1].stop_reason == "interrupted"
    run_agent(sweep_id, _slow_train(steps=3, pause=0))  # the cell is run again
    finished = sorted(r.config["i"] for r in nbsweep.Sweep(sweep_id).runs if r.state == "finished")
    assert finished == [0, 1, 2, 3, 4]
    assert nbsweep.Sweep(sweep_id).state == "FINISHED"


def test_br16_a_function_that_handles_the_interrupt_finishes_its_run_and_the_agent_stops():
    sweep_id = nbsweep.sweep(case("BR-16")["config"])

    def train_catching():
        run = nbsweep.init()
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
        step = 0
        try:
            for step in range(30):  # noqa: B007
                time.sleep(0.05)
                run.log({"loss": 1.0})
        except KeyboardInterrupt:
            run.log({"interrupted_at": step})

    handle = run_agent(sweep_id, train_catching)
    runs = nbsweep.Sweep(sweep_id).runs
    assert len(runs) == 1 and runs[0].state == "finished"
    assert "interrupted_at" in runs[0].summary
    assert handle.progress.state == "stopped"
    after = nbsweep.init(config={"k": 1})  # the kernel stays usable
    assert after.sweep_id is None
    after.finish()


def test_br16_second_background_agent_on_the_same_sweep_warns():
    sweep_id = nbsweep.sweep(case("BR-16")["config"])
    first = run_agent(sweep_id, _slow_train(steps=50), background=True)
    try:
        with pytest.warns(AgentWarning, match="already running sweep"):
            second = run_agent(sweep_id, _slow_train(steps=50), background=True)
        assert second.notices
    finally:
        first.stop()
        second.stop()
        assert first.wait(5) and second.wait(5)


def test_br17_no_state_leaks_after_the_agent():
    sweep_id = nbsweep.sweep(case("BR-17")["config"])

    def train():
        run = nbsweep.init()
        run.log({"acc": run.config.a + 1})
        run.finish()

    run_agent(sweep_id, train)
    run2 = nbsweep.init(config={"a": 2})
    run2.log({"test_acc": 20})
    run2.finish()
    (sweep_run,) = nbsweep.Sweep(sweep_id).runs
    assert run2.id != sweep_run.id and run2.sweep_id is None
    stored = nbsweep.Run.load(run2.id)
    assert stored.config == {"a": 2} and set(stored.summary) == {"test_acc"}
    assert sweep_run.state == "finished" and sweep_run.summary == {"acc": 2}
    assert [set(row) for row in sweep_run.history()] == [{"_step", "acc"}]
    assert "NBSWEEP_RUN_ID" not in os.environ


def test_br17_the_agent_finishes_a_run_the_function_left_open():
    sweep_id = nbsweep.sweep(case("BR-17")["config"])
    run_agent(sweep_id, lambda: nbsweep.init().log({"acc": 2}))
    assert [r.state for r in nbsweep.Sweep(sweep_id).runs] == ["finished"]
    fresh = nbsweep.init()
    assert fresh.sweep_id is None
    fresh.finish()


def test_br18_stray_run_is_finished_and_sweep_values_never_go_into_it():
    spec = case("BR-18")["config"]
    stray = nbsweep.init()
    sweep_id = nbsweep.sweep(spec)
    with pytest.warns(AgentWarning, match=f"finished the open run {stray.id}"):
        run_agent(sweep_id, lambda: nbsweep.log({"count": 1}), count=3)
    assert nbsweep.Run.load(stray.id).summary == {}
    assert nbsweep.Run.load(stray.id).state == "finished"
    runs = nbsweep.Sweep(sweep_id).runs
    assert len(runs) == 3 and all(r.summary == {"count": 1} for r in runs)


def test_br18_signal_handlers_in_a_background_thread_fail_the_run_with_a_hint():
    sweep_id = nbsweep.sweep(case("BR-18")["config"])

    def train_with_signal():
        run = nbsweep.init()
        signal.signal(signal.SIGTERM, lambda *a: None)
        run.log({"count": run.config.thing})

    handle = run_agent(sweep_id, train_with_signal, count=3, background=True)
    assert handle.wait(10)
    runs = nbsweep.Sweep(sweep_id).runs
    assert [r.state for r in runs] == ["failed"] * 3
    assert "background=False" in runs[0].error
    previous = signal.getsignal(signal.SIGTERM)
    try:
        other = nbsweep.sweep(case("BR-18")["config"])
        run_agent(other, train_with_signal, count=3, background=False)
        assert [r.state for r in nbsweep.Sweep(other).runs] == ["finished"] * 3
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_output_is_captured_per_run(capsys):
    sweep_id = nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1, 2]}}})

    def train():
        run = nbsweep.init()
        print(f"hello from {run.config.a}")
        print("warning!", file=sys.stderr)

    handle = run_agent(sweep_id, train, background=True)
    assert handle.wait(10)
    out = capsys.readouterr()
    assert "hello from" not in out.out  # a background thread's print never lands elsewhere
    runs = nbsweep.Sweep(sweep_id).runs
    assert [r.output for r in runs] == ["hello from 1\nwarning!\n", "hello from 2\nwarning!\n"]
    other = nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [3]}}})
    run_agent(other, train)  # in the foreground the output is also shown
    assert "hello from 3" in capsys.readouterr().out
    assert nbsweep.Sweep(other).runs[0].output.startswith("hello from 3")


def test_paused_sweep_waits_and_resumes():
    sweep_id = nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1, 2, 3]}}})
    sweep = nbsweep.Sweep(sweep_id)
    sweep.pause()
    handle = run_agent(sweep_id, lambda: nbsweep.init(), background=True)
    time.sleep(1.5)
    assert handle.is_alive() and handle.progress.started == 0
    sweep.resume()
    assert handle.wait(10)
    assert handle.progress.finished == 3


def test_cancel_stops_running_runs_at_their_next_log():
    sweep_id = nbsweep.sweep({"method": "grid", "parameters": {"i": {"values": [1, 2]}}})
    handle = run_agent(sweep_id, _slow_train(steps=500, pause=0.01), background=True)
    deadline = time.monotonic() + 10
    while handle.progress.current_run is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    nbsweep.Sweep(sweep_id).cancel()
    assert handle.wait(10)
    runs = nbsweep.Sweep(sweep_id).runs
    assert [(r.state, r.stop_reason) for r in runs] == [("stopped", "sweep canceled")]
    assert nbsweep.Sweep(sweep_id).state == "CANCELED"
    with pytest.raises(nbsweep.SweepStateError, match="Cannot pause canceled sweep"):
        nbsweep.Sweep(sweep_id).pause()


def test_sweep_survives_a_restart(store_path):
    """A sweep made in one process is reopened in another with runs, best run and table."""
    script = textwrap.dedent(
        """
        import nbsweep
        sweep_id = nbsweep.sweep({"method": "grid", "metric": {"name": "y", "goal": "maximize"},
                                  "parameters": {"x": {"values": [1, 2, 3]}}})
        def train():
            run = nbsweep.init()
            run.log({"y": -(run.config.x - 2) ** 2})
        nbsweep.agent(sweep_id, function=train, verbose=False)
        print(sweep_id)
        """
    )
    env = dict(os.environ, NBSWEEP_STORE=str(store_path))
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    sweep_id = out.stdout.strip()
    sweep = nbsweep.Sweep(sweep_id)
    assert sweep.state == "FINISHED" and len(sweep.runs) == 3
    assert sweep.best_run.config == {"x": 2} and sweep.best_run.metric_value == 0
    rows = sweep.table().rows
    assert len(rows) == 3


def test_wrong_sweep_id_fails_before_anything_runs():
    with pytest.raises(nbsweep.StoreNotFoundError, match="no nbsweep store at"):
        run_agent("nosuchid", lambda: None)  # no store file yet: none is made by mistake
    nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1]}}})
    with pytest.raises(nbsweep.SweepNotFoundError):
        run_agent("nosuchid", lambda: None)


def test_handle_reports_progress_while_running():
    sweep_id = nbsweep.sweep({"method": "grid", "parameters": {"i": {"values": [1, 2, 3]}}})
    seen = []
    handle = run_agent(sweep_id, _slow_train(steps=5, pause=0.01), background=True)
    handle.subscribe(lambda h: seen.append(h.progress.started))
    assert handle.wait(10)
    assert handle.progress.finished == 3 and seen and max(seen) == 3
    assert open_store().get_sweep(sweep_id).state == "FINISHED"


def test_a_function_that_returns_its_metric_like_an_optuna_objective():
    sweep_id = nbsweep.sweep(
        {
            "method": "random",
            "metric": {"name": "loss"},
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        }
    )

    def objective():
        return (nbsweep.init().config.x - 0.3) ** 2

    run_agent(sweep_id, objective, count=3)
    runs = nbsweep.Sweep(sweep_id).runs
    assert all(r.metric_value == pytest.approx((r.config["x"] - 0.3) ** 2) for r in runs)


def test_a_returned_model_is_not_taken_for_the_metric():
    sweep_id = nbsweep.sweep(
        {
            "method": "random",
            "metric": {"name": "loss"},
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        }
    )

    def train():
        run = nbsweep.init()
        run.log({"loss": run.config.x})
        return object()

    run_agent(sweep_id, train, count=1)
    assert [r.state for r in nbsweep.Sweep(sweep_id).runs] == ["finished"]


def test_a_function_that_needs_arguments_is_refused_before_any_run():
    sweep_id = nbsweep.sweep({"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}})

    def train(config):
        return config

    with pytest.raises(TypeError, match=r"train\(\) must take no arguments.*requires config"):
        run_agent(sweep_id, train)
    with pytest.raises(TypeError, match="without parentheses"):
        run_agent(sweep_id, None)
    assert nbsweep.Sweep(sweep_id).runs == []


def test_print_of_a_table_is_text():
    sweep_id = nbsweep.sweep(
        {"method": "grid", "metric": {"name": "y"}, "parameters": {"x": {"values": [1, 2]}}}
    )
    run_agent(sweep_id, lambda: nbsweep.init().log({"y": 0.5}))
    lines = str(nbsweep.Sweep(sweep_id).table()).splitlines()
    assert lines[0].split()[:4] == ["id", "state", "y", "x"]
    assert len(lines) == 3 and "finished" in lines[1]
