"""A dashboard whose cell is run again stops reading the store (no thread per re-run)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = [
    """
import nbsweep
sweep_id = nbsweep.sweep({"method": "grid", "metric": {"name": "y"},
                          "parameters": {"x": {"values": [1, 2, 3]}}})
nbsweep.agent(sweep_id, function=lambda: nbsweep.init().log({"y": 1.0}),
              background=False, display=False)
dashboards = []
""",
    "d = nbsweep.Sweep(sweep_id).dashboard(); dashboards.append(d); d",
]


def test_a_replaced_dashboard_goes_idle(lab_server, open_notebook, dashboard_view):
    nbp = open_notebook(lab_server, "lifecycle.ipynb", CELLS)
    nbp.run_and_wait(0, timeout=60)
    for _ in range(3):  # the user runs the dashboard cell three times
        nbp.run_and_wait(1, timeout=60)
        dashboard_view(nbp, 1).wait_ready(timeout=30)
    counts = nbp.run_json("[d._view_count for d in dashboards]")
    assert counts[-1] >= 1, counts
    assert counts[:-1] == [0, 0], counts  # the replaced outputs have no views left
    nbp.run_code("import time; r0 = [d._publisher.rounds for d in dashboards]; time.sleep(3)")
    rounds = nbp.run_json("[d._publisher.rounds - r for d, r in zip(dashboards, r0)]")
    assert rounds[0] == rounds[1] == 0, rounds  # idle: no store reads while unseen
    assert rounds[2] >= 1, rounds  # the shown one keeps following the store
