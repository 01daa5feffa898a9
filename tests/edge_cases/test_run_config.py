"""Adversarial tests: run.config refuses to change sweep values."""

from __future__ import annotations

import contextlib

import pytest

import nbsweep

pytestmark = pytest.mark.filterwarnings("ignore::nbsweep.NbsweepWarning")


def test_list_sweep_value_cannot_be_mutated(store_path) -> None:
    sweep_id = nbsweep.sweep(
        {"method": "grid", "parameters": {"layers": {"values": [[64, 32]]}}}, store=store_path
    )

    def train() -> None:
        run = nbsweep.init()
        # refusing the change is fine too
        with contextlib.suppress(nbsweep.ConfigLockedError, AttributeError, TypeError):
            run.config.layers.append(999)
        run.config.epochs = 3  # an allowed change, so the config is written again
        run.log({"y": 1.0})

    nbsweep.agent(sweep_id, function=train, store=store_path, background=False, verbose=False)
    (run,) = nbsweep.Sweep(sweep_id, store=store_path).runs
    assert run.config["layers"] == [64, 32]
