"""Adversarial tests: the function agent.

Promise: a raising function fails its run (traceback kept), not the agent; no run is left
'running'; nothing of an agent survives after it returns.
"""

from __future__ import annotations

import sys
import threading

import pytest

import nbsweep
from nbsweep.run._current import set_standalone, standalone_run

pytestmark = pytest.mark.filterwarnings("ignore::nbsweep.NbsweepWarning")


def _grid(store_path, values=(1, 2, 3)) -> str:
    return nbsweep.sweep(
        {
            "method": "grid",
            "metric": {"name": "loss"},
            "parameters": {"x": {"values": list(values)}},
        },
        store=store_path,
    )


@pytest.mark.parametrize("background", [False, True])
def test_system_exit_fails_the_run_not_the_agent(store_path, background: bool) -> None:
    sweep_id = _grid(store_path)

    def train() -> None:
        nbsweep.init()
        sys.exit(2)

    try:
        handle = nbsweep.agent(
            sweep_id, function=train, store=store_path, background=background, verbose=False
        )
        handle.wait(10)
    except SystemExit:
        pass
    runs = nbsweep.Sweep(sweep_id, store=store_path).runs
    assert runs and all(r.state != "running" for r in runs)
    assert runs[0].state == "failed"
    assert "SystemExit" in (runs[0].error or "")


def test_init_in_child_thread_of_run_function(store_path) -> None:
    sweep_id = _grid(store_path, values=(1,))
    seen: list[tuple[str | None, dict]] = []

    def train() -> None:
        nbsweep.init()

        def child() -> None:
            run = nbsweep.init()
            seen.append((run.sweep_id, dict(run.config)))

        worker = threading.Thread(target=child)
        worker.start()
        worker.join()

    try:
        nbsweep.agent(sweep_id, function=train, store=store_path, background=False, verbose=False)
        assert standalone_run() is None, "a run opened during the agent survives it"
        assert seen == [(sweep_id, {"x": 1})]
    finally:
        leaked = standalone_run()
        if leaked is not None:
            leaked.finish()
        set_standalone(None)
