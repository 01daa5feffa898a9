"""The live dashboard in JupyterLab, in headless Chromium: what a user sees and does.

The first test runs a notebook like the quickstart (a torch MLP on the bundled digits data,
16 runs of about 2 s on the agent's thread) and acts in the page as a user would: the
dashboard appears under the agent's cell and grows while the agent runs, a drag on an axis
filters the runs table and reaches Python in data units, the stop button stops the agent,
and the kernel answers another cell meanwhile. The second opens a stored sweep with
``Sweep(id).dashboard()`` in a fresh kernel, and sets brushes from Python.

Everything is read through the dashboard's fixed DOM hooks (``data-testid`` and ``data-*``
attributes); screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

import nbsweep

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COUNT = 16
LR = "learning_rate"
LR_SPAN = 0.1 - 0.001
# A drag lands within a pixel or two of where it was aimed; on an axis about 300 px tall
# that is well under 2 % of its span.
TOLERANCE = 0.02 * LR_SPAN


def test_agent_dashboard_live_brush_stop_and_usable_kernel(
    lab_server, open_notebook, training_cells, dashboard_view
):
    nbp = open_notebook(lab_server, "dashboard.ipynb", training_cells(count=COUNT))
    nbp.run_and_wait(0, timeout=90)
    t0 = time.monotonic()
    nbp.run_and_wait(1, timeout=30)
    returned = time.monotonic() - t0
    assert returned < 10, f"nbsweep.agent took {returned:.1f} s to return in a kernel"

    # the dashboard appears under the agent's cell
    view = dashboard_view(nbp, 1)
    view.wait_ready(timeout=30)
    sweep_id = nbp.run_json("sweep_id")
    assert view.sweep_id() == sweep_id
    assert LR in view.axes(), view.axes()

    # lines and header counts grow while the agent runs
    samples = nbp.sample(lambda: (view.drawn(), view.counts()), seconds=5, every=0.5)
    drawn = [d for _, (d, _) in samples]
    finished = [c["finished"] for _, (_, c) in samples]
    assert None not in drawn and None not in finished, samples
    assert drawn == sorted(drawn) and drawn[-1] > drawn[0], f"data-drawn: {samples}"
    assert finished == sorted(finished) and finished[-1] > finished[0], f"header: {samples}"
    assert any(c["running"] == 1 for _, (_, c) in samples), samples
    nbp.screenshot("dashboard-lab-running", "div.nbsweep-dashboard")

    # a new cell runs and returns while the agent works
    index = nbp.append_cell("1 + 1")
    took = nbp.wait_cell(nbp.run_cell(index), timeout=30)
    assert nbp.outputs(index)[0]["data"]["text/plain"] == "2"
    assert took < 5, f"a trivial cell took {took:.1f} s while the agent ran"
    print(f"agent returned in {returned:.2f} s; `1 + 1` took {took:.2f} s; samples {samples}")

    # a drag on the learning_rate axis filters the table and reaches Python in data units
    lrs = nbp.run_json(
        "[r.config['learning_rate'] for r in nbsweep.Sweep(sweep_id).runs "
        "if r.state == 'finished']"
    )
    if len(lrs) < 4:
        nbp.wait_until(lambda: (view.counts()["finished"] or 0) >= 4, 30, what="4 finished")
        lrs = nbp.run_json(
            "[r.config['learning_rate'] for r in nbsweep.Sweep(sweep_id).runs "
            "if r.state == 'finished']"
        )
    lo, hi = view.middle_range(lrs)
    nbp.wait_kernel_idle()
    rows_before = len(view.row_ids())
    dragged = view.brush(LR, lo, hi)
    drawn_now, _ = nbp.wait_until(
        view.brushed_lines, 10, what="data-highlighted < data-drawn after the brush"
    )
    # the table follows once the brush has rested a moment (it skips the drag's steps)
    rows_after = view.wait_rows(
        lambda n: n < rows_before, 5, what=f"fewer rows after the brush {dragged} (lrs {lrs})"
    )
    assert rows_after > 0, (rows_before, lrs, dragged)
    nbp.screenshot("dashboard-lab-brushed", "div.nbsweep-dashboard")
    brush = nbp.run_json("dash.brush")
    assert list(brush) == [LR], brush
    got = brush[LR]
    assert abs(got[0] - dragged[0]) < TOLERANCE and abs(got[1] - dragged[1]) < TOLERANCE, (
        got,
        dragged,
    )

    # the brush stays (in data units) while new runs arrive
    nbp.wait_until(lambda: (view.drawn() or 0) > drawn_now, 20, what="a new line")
    drawn_later, highlighted_later = view.lines()
    assert highlighted_later < drawn_later, (drawn_later, highlighted_later)
    assert nbp.run_json("dash.brush") == brush

    # the stop button stops the agent; the run it interrupted ends as stopped
    nbp.wait_kernel_idle()
    stop = view.root.locator("[data-testid='stop-button']")
    assert stop.is_enabled()
    view.mark()
    stop.click()
    result = nbp.run_json(
        "assert handle.wait(timeout=30), 'the agent did not stop'\n"
        "runs = nbsweep.Sweep(sweep_id).runs\n"
        "{'alive': handle.is_alive(), 'state': handle.progress.state,"
        " 'states': [r.state for r in runs],"
        " 'finished': sum(r.state == 'finished' for r in runs),"
        " 'filtered': [r.id for r in dash.filtered_runs()]}",
        timeout=45,
    )
    assert result["alive"] is False and result["state"] == "stopped", result
    assert "running" not in result["states"] and "stopped" in result["states"], result
    assert len(result["states"]) < COUNT, result
    # Once the agent has ended, its output is redrawn (for the static PNG), which rebuilds
    # the view: wait for that, then check the new view, which must keep the brush.
    rebuilt = view.wait_replaced(10)
    print(f"view rebuilt {rebuilt} s after the agent ended")
    view.wait_ready(timeout=20)

    nbp.wait_until(
        lambda: view.counts()["running"] == 0 and view.counts()["finished"] == result["finished"],
        10,
        what="the header to show the final counts",
    )
    assert view.counts()["failed"] == 0
    nbp.wait_until(lambda: not stop.is_enabled(), 5, what="the stop button to be disabled")

    # with the sweep at rest, the table shows exactly the runs Python finds in the brush
    assert sorted(view.row_ids()) == sorted(result["filtered"]), (view.row_ids(), result)
    drawn, highlighted = view.lines()
    if drawn == len(result["states"]):  # every run has a line: the same runs are lit
        assert highlighted == len(result["filtered"]), (drawn, highlighted, result)
    else:
        assert highlighted <= len(result["filtered"]), (drawn, highlighted, result)
    nbp.wait_until(view.importance_params, 20, what="importance bars")
    nbp.screenshot("dashboard-lab-stopped", "div.nbsweep-dashboard")
    assert not nbp.console_errors, nbp.console_errors


def _stored_sweep(store) -> tuple[str, dict[str, int]]:
    """A finished grid sweep of 12 runs (one failed) made in this process."""
    config = {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {
            "x": {"distribution": "q_uniform", "min": 0.1, "max": 0.6, "q": 0.1},  # numeric
            "kind": {"values": ["a", "b"]},
        },
    }
    sweep_id = nbsweep.sweep(config, store=store, seed=0)

    def train():
        run = nbsweep.init()
        if run.config.x > 0.55 and run.config.kind == "b":
            raise RuntimeError("boom")
        for step in range(5):
            bonus = 0.0 if run.config.kind == "a" else 0.5
            run.log({"loss": (run.config.x - 0.3) ** 2 + bonus + 1 / (step + 1)})

    handle = nbsweep.agent(
        sweep_id, function=train, store=store, background=False, display=False, verbose=False
    )
    assert handle.progress.finished == 11 and handle.progress.failed == 1
    return sweep_id, {"finished": 11, "failed": 1, "running": 0}


def test_stored_sweep_dashboard_in_a_fresh_kernel(lab_server, open_notebook, dashboard_view):
    sweep_id, counts = _stored_sweep(lab_server.store)
    cells = [f"import nbsweep\ndash = nbsweep.Sweep({sweep_id!r}).dashboard()\ndash"]
    nbp = open_notebook(lab_server, "stored.ipynb", cells)
    nbp.run_and_wait(0, timeout=60)
    view = dashboard_view(nbp, 0)
    view.wait_ready(timeout=30)

    assert view.sweep_id() == sweep_id
    assert view.counts() == counts
    drawn, highlighted = view.lines()
    assert drawn in (11, 12) and highlighted == drawn, (drawn, highlighted)
    rows = view.row_ids()
    assert len(rows) in (11, 12), rows
    assert {"x", "kind"} <= set(view.axes()), view.axes()
    nbp.wait_until(
        lambda: set(view.importance_params()) == {"x", "kind"}, 20, what="importance bars"
    )
    assert view.root.locator("[data-testid='curves']").is_visible()
    nbp.screenshot("dashboard-lab-stored", "div.nbsweep-dashboard")

    # a brush set from Python is drawn and filters the table (numeric, then categorical)
    nbp.run_code("dash.brush = {'x': [0.15, 0.45]}")
    nbp.wait_until(lambda: len(view.row_ids()) == 6, 10, what="6 rows for x in [0.15, 0.45]")
    assert view.lines()[1] == 6
    nbp.run_code("dash.brush = {'kind': ['a']}")
    nbp.wait_until(lambda: len(view.row_ids()) == 6, 10, what="6 rows for kind a")
    nbp.run_code("dash.brush = {'kind': ['b'], 'x': [0.35, 0.65]}")
    expected = nbp.run_json("sorted(r.id for r in dash.filtered_runs())")
    assert len(expected) == 3
    nbp.wait_until(lambda: sorted(view.row_ids()) == expected, 10, what="the brushed rows")
    nbp.run_code("dash.brush = {}")
    nbp.wait_until(lambda: len(view.row_ids()) == len(rows), 10, what="all rows again")
    assert view.lines()[1] == view.lines()[0]

    # a drag on a categorical axis brushes categories, which Python reads as values
    nbp.wait_kernel_idle()
    view.brush_categories("kind", ["a"])
    nbp.wait_until(lambda: len(view.row_ids()) == 6, 10, what="6 rows for a drag over kind a")
    assert nbp.run_json("dash.brush") == {"kind": ["a"]}

    # a click on a row selects that run in Python
    nbp.wait_kernel_idle()
    first = view.row_ids()[0]
    view.root.locator(f"[data-testid='runs-table'] tbody tr[data-run-id='{first}']").click()
    nbp.wait_until(lambda: nbp.run_json("dash.selected") == [first], 10, what="dash.selected")

    # a second view of the same widget draws the same brush
    second = nbp.append_cell("dash")
    nbp.run_and_wait(second)
    view2 = dashboard_view(nbp, second)
    view2.wait_ready(timeout=20)
    nbp.wait_until(lambda: sorted(view2.row_ids()) == sorted(view.row_ids()), 10, what="view 2")
    assert view2.lines() == view.lines()

    # after a save and a page reload the dashboard comes back from the live kernel
    nbp.save()
    nbp.reload()
    view = dashboard_view(nbp, 0)
    view.wait_ready(timeout=30)
    nbp.wait_until(lambda: len(view.row_ids()) == 6, 10, what="the brush after a reload")
    assert view.counts() == counts
    nbp.screenshot("dashboard-lab-stored-reloaded", "div.nbsweep-dashboard")
    assert not nbp.console_errors, nbp.console_errors


def _add_runs(store, sweep_id: str, count: int, loss) -> None:
    """Run ``count`` runs of the sweep here, in the test's process, logging ``loss(x)``."""

    def train():
        run = nbsweep.init()
        run.log({"loss": loss(run.config.x)})

    nbsweep.agent(
        sweep_id,
        function=train,
        count=count,
        store=store,
        background=False,
        display=False,
        verbose=False,
    )


def test_brush_stays_in_data_units_as_other_processes_add_runs_and_stop_sweep(
    lab_server, open_notebook, dashboard_view
):
    store = lab_server.store
    config = {
        "method": "random",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
    }
    sweep_id = nbsweep.sweep(config, store=store, seed=3)
    _add_runs(store, sweep_id, 10, lambda x: x)  # loss in [0, 1]
    cells = [f"import nbsweep\ndash = nbsweep.Sweep({sweep_id!r}).dashboard()\ndash"]
    nbp = open_notebook(lab_server, "grow.ipynb", cells)
    nbp.run_and_wait(0, timeout=60)
    view = dashboard_view(nbp, 0)
    view.wait_ready(timeout=30)
    assert view.lines() == (10, 10)

    # brush the metric axis by a drag, over about its middle
    losses = nbp.run_json("[r.metric_value for r in nbsweep.Sweep(dash.sweep_id).runs]")
    lo, hi = view.middle_range(losses)
    nbp.wait_kernel_idle()
    view.brush("loss", lo, hi)
    nbp.wait_until(view.brushed_lines, 10, what="the brush on loss")
    brush = nbp.wait_until(lambda: nbp.run_json("dash.brush"), 10, what="dash.brush")
    inside = nbp.run_json("sorted(r.id for r in dash.filtered_runs())")
    assert 0 < len(inside) < 10 and sorted(view.row_ids()) == inside

    # another process adds runs far outside the loss axis: it grows, the brush stays put
    _add_runs(store, sweep_id, 5, lambda x: 5.0 + x)
    nbp.wait_until(lambda: view.lines()[0] == 15, 15, what="the 5 runs from another process")
    nbp.wait_until(lambda: view.counts()["finished"] == 15, 10, what="header: 15 finished")
    assert view.lines()[1] == len(inside)
    assert sorted(view.row_ids()) == inside
    assert nbp.run_json("dash.brush") == brush
    # the drawn brush still covers the same loss values on the rescaled axis
    _, to_value = view.axis_scale("loss")
    box = view.axis("loss").locator("rect.selection").bounding_box()
    assert box is not None
    drawn = sorted([to_value(box["y"]), to_value(box["y"] + box["height"])])
    span = max(losses) - min(losses)
    assert abs(drawn[0] - brush["loss"][0]) < 0.05 * span, (drawn, brush)
    assert abs(drawn[1] - brush["loss"][1]) < 0.05 * span, (drawn, brush)
    nbp.screenshot("dashboard-lab-grown", "div.nbsweep-dashboard")

    # without an agent the stop button stops the sweep, after a confirmation in the page
    nbp.wait_kernel_idle()
    view.root.locator("[data-testid='stop-button']").click()
    view.root.locator("[data-testid='stop-confirm']").click()
    nbp.wait_until(
        lambda: nbsweep.Sweep(sweep_id, store=store).state != "RUNNING",
        10,
        what="the sweep to leave RUNNING",
    )
    assert nbsweep.Sweep(sweep_id, store=store).state == "FINISHED"
    stop = view.root.locator("[data-testid='stop-button']")
    nbp.wait_until(lambda: not stop.is_enabled(), 10, what="a disabled stop button")
    assert not nbp.console_errors, nbp.console_errors


def test_csv_export_from_the_page_keeps_formula_like_text_as_text(
    lab_server, open_notebook, dashboard_view
):
    config = {
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"note": {"values": ["=1+2", "plain"]}, "shift": {"value": -0.5}},
    }
    sweep_id = nbsweep.sweep(config, store=lab_server.store, seed=0)

    def train():
        run = nbsweep.init()
        run.log({"loss": run.config.shift - (run.config.note == "plain")})

    nbsweep.agent(
        sweep_id,
        function=train,
        store=lab_server.store,
        background=False,
        display=False,
        verbose=False,
    )
    cells = [f"import nbsweep\nnbsweep.Sweep({sweep_id!r}).dashboard()"]
    nbp = open_notebook(lab_server, "csv.ipynb", cells)
    nbp.run_and_wait(0, timeout=60)
    view = dashboard_view(nbp, 0)
    view.wait_ready(timeout=30)
    with nbp.page.expect_download() as info:
        view.root.locator("[data-testid='export-csv']").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["note"] for r in rows) == ["'=1+2", "plain"], text
    assert sorted(float(r["loss"]) for r in rows) == [-1.5, -0.5], text
    assert not nbp.console_errors, nbp.console_errors
