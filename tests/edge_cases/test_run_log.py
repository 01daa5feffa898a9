"""Adversarial tests: run.log and the sweep metric.

README: numbers (ints, floats, numpy and torch scalars) are metrics; anything else raises
TypeError at the run.log call naming the key; nothing logged before finish is lost.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import nbsweep

pytestmark = pytest.mark.filterwarnings("ignore::nbsweep.NbsweepWarning")


def test_numpy_float64_is_a_metric(store_path) -> None:
    sweep_id = nbsweep.sweep(
        {
            "method": "grid",
            "metric": {"name": "loss"},
            "parameters": {"x": {"values": [1, 2]}},
        },
        store=store_path,
    )

    def train() -> None:
        run = nbsweep.init()
        run.log({"loss": np.float64(run.config.x) / 10})

    nbsweep.agent(sweep_id, function=train, store=store_path, background=False, verbose=False)
    sweep = nbsweep.Sweep(sweep_id, store=store_path)
    assert [r.metric_value for r in sweep.runs] == [0.1, 0.2]
    assert sweep.best_run is not None and sweep.best_run.config == {"x": 1}
    assert sweep.runs[0].metric_history("loss") == [(0, 0.1)]


def test_numpy_float64_in_metric_history(store_path) -> None:
    run = nbsweep.init(store=store_path)
    run.log({"acc": np.float64(0.5)})
    run.finish()
    assert nbsweep.Run.load(run.id, store=store_path).metric_history("acc") == [(0, 0.5)]


def test_huge_int_does_not_lose_history(store_path) -> None:
    run = nbsweep.init(store=store_path)
    run.log({"loss": 1.0})
    with contextlib.suppress(TypeError):  # refusing it at the call is fine too
        run.log({"big": 10**400})
    run.log({"loss": 2.0})
    run.finish()
    stored = nbsweep.Run.load(run.id, store=store_path)
    assert stored.state == "finished"
    assert [row["loss"] for row in stored.history() if "loss" in row] == [1.0, 2.0]


@pytest.mark.parametrize("data", [[1, 2], None, 0.5])
def test_log_non_mapping_is_type_error(store_path, data: object) -> None:
    run = nbsweep.init(store=store_path)
    try:
        with pytest.raises(TypeError):
            run.log(data)  # type: ignore[arg-type]
    finally:
        run.finish()
