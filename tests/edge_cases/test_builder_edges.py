"""Adversarial tests: the sweep config builder (Python side, driven through its widgets).

Each test is a defect found while trying to break the builder; they are expected to fail
(``xfail(strict=True)``) until it is fixed.
"""

from __future__ import annotations

import pytest

from nbsweep.views._builder import RUN, SEED, Builder

pytestmark = pytest.mark.filterwarnings("ignore::nbsweep.NbsweepWarning")

CONFIG = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2]}}}


def test_a_seed_too_large_is_shown_at_the_seed_field(store_path):
    b = Builder(CONFIG, store=store_path)
    b.seed.value = "9" * 40
    b.create_button.click()
    assert b.sweep_id is None
    assert b.messages_at(SEED, "error"), {m.field: m.text for m in b.messages}
    assert not b.messages_at(RUN, "error")
