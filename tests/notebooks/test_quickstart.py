"""The quickstart notebook, as committed and as run end to end by ``scripts/quickstart.py``."""

from __future__ import annotations

import ast
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import nbformat
import pytest

import nbsweep
from nbsweep.store import open_store

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "quickstart.ipynb"
SCRIPT = REPO / "scripts" / "quickstart.py"
FIGURES = ("parallel_coordinates", "importance", "curves")
RUNS = 8


def read_notebook(path: Path = NOTEBOOK) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cell(nb: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.get("id") == cell_id)


def notebook_config() -> dict:
    """The sweep config as written in the notebook's ``config`` cell."""
    tree = ast.parse(code_cell(read_notebook(), "config").source)
    assign = next(n for n in tree.body if isinstance(n, ast.Assign))
    assert [t.id for t in assign.targets] == ["config"]
    return ast.literal_eval(assign.value)


def run_job(out: Path, *extra: str, timeout: float = 280) -> subprocess.CompletedProcess:
    """Run the script as a user would from a fresh shell: only this Python, no venv on PATH.

    PATH holds no venv, so the kernel works only if the script starts it on this Python.
    PYTHONPATH puts this checkout first, so the nbsweep under test is the one imported
    (the same one an editable install would give).
    """
    home = out.parent / f"{out.name}-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), *extra],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def summary_line(stdout: str, name: str) -> str:
    match = re.search(rf"^{re.escape(name)}:\s+(.*)$", stdout, re.MULTILINE)
    assert match, f"no {name!r} line in the summary:\n{stdout}"
    return match.group(1)


# The notebook as committed ----------------------------------------------------------------


def test_notebook_is_valid_json_and_nbformat():
    json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    nb = read_notebook()
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"


def test_notebook_is_committed_without_outputs():
    nb = read_notebook()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [], f"cell {cell.get('id')} has outputs"
        assert cell.execution_count is None, f"cell {cell.get('id')} has an execution count"
    assert "widgets" not in nb.metadata, "saved widget state: clear the notebook's outputs"


def test_notebook_config_is_the_tutorial_sweep():
    config = notebook_config()
    normalized = nbsweep.validate(config)
    assert normalized["method"] == "random"
    assert normalized["metric"]["name"] == "val_loss"
    assert normalized["metric"]["goal"] == "minimize"
    params = config["parameters"]
    assert params["optimizer"] == {"values": ["adam", "sgd"]}
    assert params["fc_layer_size"] == {"values": [128, 256, 512]}
    assert params["dropout"] == {"values": [0.3, 0.4, 0.5]}
    assert set(params["epochs"]) == {"value"}
    assert params["learning_rate"] == {"distribution": "uniform", "min": 0, "max": 0.1}
    assert params["batch_size"] == {
        "distribution": "q_log_uniform_values",
        "q": 8,
        "min": 32,
        "max": 256,
    }


def test_notebook_waits_for_the_agent_and_checks_its_errors():
    # nbclient neither waits for the agent's thread nor sees its errors, so the notebook must.
    nb = read_notebook()
    assert f"count={RUNS}" in code_cell(nb, "agent").source
    wait = code_cell(nb, "wait").source
    assert "assert handle.wait(timeout=" in wait
    assert "assert not handle.errors" in wait
    assert "nbsweep.sweep(config, seed=" in code_cell(nb, "sweep").source


def test_script_help():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "--out" in result.stdout


# The main job, end to end -------------------------------------------------------------------


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("quickstart") / "out"
    result = run_job(out)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result, out


def open_sweep(out: Path) -> nbsweep.Sweep:
    store = open_store(out / "nbsweep.db")
    (record,) = store.list_sweeps()
    return nbsweep.Sweep(record.id, store=store)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_job_summary_shows_every_run_finished_and_a_learned_best(job):
    result, out = job
    assert summary_line(result.stdout, "runs") == f"{RUNS} finished"
    best = re.fullmatch(
        r"val_loss = (\S+) \(minimize\), run (\w+)", summary_line(result.stdout, "best")
    )
    assert best, result.stdout
    value = float(best.group(1))
    # Chance on 10 balanced classes is a loss of log(10) = 2.3; a network that learned is
    # far below it.
    assert value < 0.25 * math.log(10)
    assert summary_line(result.stdout, "store") == str(out / "nbsweep.db")
    assert summary_line(result.stdout, "kernel") == sys.executable
    config = summary_line(result.stdout, "  config")
    for name in ("optimizer", "fc_layer_size", "dropout", "epochs", "learning_rate"):
        assert f"{name}=" in config

    sweep = open_sweep(out)
    best_run = sweep.best_run
    assert best_run.id == best.group(2)
    assert best_run.metric_value == pytest.approx(value, rel=1e-5)
    assert best_run.summary["val_accuracy"] > 0.9  # chance is 0.1


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_job_saves_figures_that_are_real_images(job):
    result, out = job
    listed = summary_line(result.stdout, "figures")
    for name in FIGURES:
        path = out / f"{name}.png"
        assert path.is_file()
        assert str(path) in result.stdout or str(path) == listed
        assert path.stat().st_size > 10_000
        image = mpimg.imread(path)
        height, width = image.shape[:2]
        assert height >= 300
        assert width >= 500
        assert image.shape[2] in (3, 4)
        assert image[..., :3].std() > 0.05, f"{name}.png is nearly one colour"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_executed_notebook_has_no_errors_and_shows_the_figures(job):
    _, out = job
    nb = read_notebook(out / "quickstart.ipynb")
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"cell {cell.get('id')} did not run"
        for output in cell.outputs:
            assert output.output_type != "error", f"cell {cell.get('id')}: {output.evalue}"
            if output.output_type == "stream":
                assert "Traceback" not in output.text, f"cell {cell.get('id')}: {output.text}"
    for cell_id in ("parallel", "importance", "curves"):
        kinds = {k for o in code_cell(nb, cell_id).outputs for k in o.get("data", {})}
        assert "image/png" in kinds, f"cell {cell_id} shows no figure"
    assert "<table" in code_cell(nb, "table").outputs[0].data["text/html"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_store_holds_every_run_with_its_epoch_history(job):
    _, out = job
    sweep = open_sweep(out)
    epochs = notebook_config()["parameters"]["epochs"]["value"]
    runs = sweep.runs
    assert len(runs) == RUNS
    for run in runs:
        assert run.state == "finished", run.error
        history = run.history()
        assert len(history) == epochs
        assert [row["_step"] for row in history] == list(range(epochs))
        assert [row["epoch"] for row in history] == list(range(1, epochs + 1))
        for row in history:
            for key in ("train_loss", "val_loss", "val_accuracy"):
                assert math.isfinite(row[key]), (run.id, row)
            assert 0.0 <= row["val_accuracy"] <= 1.0
        # The run's metric is the best val_loss it logged, as in W&B.
        assert run.metric_value == pytest.approx(min(row["val_loss"] for row in history))
        assert run.summary["val_loss"] == history[-1]["val_loss"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_job_is_repeatable(job, tmp_path):
    # The sweep's seed fixes the configs and each run seeds torch from its config, so a
    # second run of the job trains the same networks to the same values.
    _, out = job
    again = run_job(tmp_path / "again")
    assert again.returncode == 0, again.stderr
    first = [(r.config, r.metric_value) for r in open_sweep(out).runs]
    second = [(r.config, r.metric_value) for r in open_sweep(tmp_path / "again").runs]
    assert [c for c, _ in second] == [c for c, _ in first]
    assert [v for _, v in second] == pytest.approx([v for _, v in first], rel=1e-6)


# The job's failures ---------------------------------------------------------------------------


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_job_fails_clearly_when_a_cell_fails(tmp_path):
    notebook = write_notebook(tmp_path / "broken.ipynb", "x = 1", "raise ValueError('no data')")
    result = run_job(tmp_path / "out", "--notebook", str(notebook), timeout=120)
    assert result.returncode == 1
    assert "the notebook failed in cell 1" in result.stderr
    assert "ValueError: no data" in result.stderr
    assert (tmp_path / "out" / "broken.ipynb").is_file()  # saved as far as it ran


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_job_fails_clearly_when_a_run_fails(tmp_path):
    notebook = write_notebook(
        tmp_path / "failing-runs.ipynb",
        """
import nbsweep
sweep_id = nbsweep.sweep({"method": "grid", "metric": {"name": "loss"},
                          "parameters": {"x": {"values": [1, 2, 3]}}})
def train():
    run = nbsweep.init()
    if run.config.x == 2:
        raise RuntimeError("diverged at x=2")
    run.log({"loss": float(run.config.x)})
handle = nbsweep.agent(sweep_id, function=train)
assert handle.wait(timeout=60)
""",
    )
    result = run_job(tmp_path / "out", "--notebook", str(notebook), timeout=120)
    assert result.returncode == 1, result.stdout
    assert summary_line(result.stdout, "runs") == "2 finished, 1 failed"
    assert re.search(r"run \w+ failed: RuntimeError: diverged at x=2", result.stderr)
