"""The agent inside a real Jupyter kernel (through nbclient): background thread, view, capture."""

from __future__ import annotations

import json
import time

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

CELLS = [
    """
import time, nbsweep
sweep_id = nbsweep.sweep({"method": "grid", "metric": {"name": "loss"},
                          "parameters": {"i": {"values": [0, 1, 2, 3]}}})
def train():
    run = nbsweep.init()
    print(f"training {run.config.i}")
    for step in range(10):
        time.sleep(0.05)
        run.log({"loss": run.config.i + 1 / (step + 1)})
t0 = time.monotonic()
handle = nbsweep.agent(sweep_id, function=train)
returned_after = time.monotonic() - t0
""",
    # This cell runs while the agent works on its thread.
    "alive_in_next_cell = handle.is_alive(); answer = 1 + 1",
    """
assert handle.wait(timeout=60)
assert not handle.errors, handle.errors
sweep = nbsweep.Sweep(sweep_id)
result = {
    "returned_after": returned_after,
    "alive_in_next_cell": alive_in_next_cell,
    "answer": answer,
    "finished": handle.progress.finished,
    "outputs": [r.output for r in sweep.runs],
    "best": sweep.best_run.config,
    "threads": handle._background,
}
print("RESULT " + __import__("json").dumps(result))
""",
    # A foreground agent in a kernel blocks the cell and still works.
    """
other = nbsweep.sweep({"method": "grid", "parameters": {"i": {"values": [5]}}})
h2 = nbsweep.agent(other, function=train, background=False)
print("FOREGROUND", h2.progress.finished)
""",
]


def test_agent_runs_in_the_background_of_a_kernel(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        store_widget_state=True,
    )
    monkeypatch.setenv("NBSWEEP_STORE", str(tmp_path / "kernel.db"))
    started = time.monotonic()
    client.execute()
    assert time.monotonic() - started < 120

    first = nb.cells[0].outputs
    # the agent's view is shown under the cell that started it
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in first)
    texts = [o.get("text", "") for cell in nb.cells for o in cell.outputs if o.output_type == "stream"]
    leaked = [t for t in texts if t.startswith("training") and "training 5" not in t]
    assert not leaked, "a background print leaked into a cell"
    line = next(t for t in texts if "RESULT " in t)
    result = json.loads(line.split("RESULT ", 1)[1])
    assert result["returned_after"] < 2.0  # returned at once
    assert result["alive_in_next_cell"] is True and result["answer"] == 2
    assert result["threads"] is True and result["finished"] == 4
    assert result["outputs"] == [f"training {i}\n" for i in range(4)]
    assert result["best"] == {"i": 0}
    assert any("FOREGROUND 1" in t for t in texts)
    assert any("training 5" in t for t in texts)  # a foreground run's print shows in its cell
    last = [o.output_type for o in nb.cells[3].outputs]
    assert last.index("display_data") < last.index("stream")  # the view comes before the run
