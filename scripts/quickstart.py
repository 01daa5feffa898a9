#!/usr/bin/env python
"""Run the quickstart notebook headless, then summarise its sweep from the store.

This is nbsweep's "main job". It executes ``notebooks/quickstart.ipynb`` with nbclient in a
kernel of the Python that runs this script, with ``NBSWEEP_STORE`` set to a fresh store in
the output folder, and saves the executed notebook there. Then it opens the sweep from the
store, prints a short summary (runs by state, the best metric and its config) and saves the
sweep's figures as PNG files next to it.

Usage::

    pip install -e ".[torch,notebook]"
    python scripts/quickstart.py                 # writes out/quickstart/
    python scripts/quickstart.py --out some/dir

Exit status: 0 when the notebook ran and every run finished; 1 when the notebook failed, a
run failed or crashed, or a figure could not be drawn; 2 for a bad command line or a
missing dependency.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_NOTEBOOK = REPO / "notebooks" / "quickstart.ipynb"
STORE_NAME = "nbsweep.db"
FIGURES = {
    "parallel_coordinates": "plot_parallel_coordinates",
    "importance": "plot_importance",
    "curves": "plot_curves",
}
# Run states that mean the run's function ended the way it chose to.
OK_STATES = ("finished", "stopped")
STATE_ORDER = ("finished", "stopped", "running", "failed", "crashed")


class JobError(Exception):
    """A failure of the job, reported as one clear message and exit status 1."""


def main(argv: list[str] | None = None) -> int:
    """Run the job; return the exit status."""
    args = parse_args(argv)
    missing = missing_modules(args.notebook)
    if missing:
        print(
            f"error: this Python ({sys.executable}) lacks {', '.join(missing)}; install the "
            'project with its extras: pip install -e ".[torch,notebook]"',
            file=sys.stderr,
        )
        return 2
    if not args.notebook.is_file():
        print(f"error: no notebook at {args.notebook}", file=sys.stderr)
        return 2

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    store_path = out / STORE_NAME
    clear_previous(out, args.notebook.name)

    problems: list[str] = []
    try:
        seconds = execute_notebook(args.notebook, out, store_path, args.timeout)
    except JobError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    lines, problems = summarise(store_path, out)
    print(f"nbsweep quickstart: {args.notebook.name} ran in {seconds:.1f} s")
    print(label("notebook", str(out / args.notebook.name)))
    print(label("kernel", sys.executable))
    print(label("store", str(store_path)))
    print("\n".join(lines))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        description="Execute the nbsweep quickstart notebook headless and summarise its sweep."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/quickstart"),
        help="folder for the store, the executed notebook and the figures "
        "(default: out/quickstart)",
    )
    parser.add_argument(
        "--notebook",
        type=Path,
        default=DEFAULT_NOTEBOOK,
        help="notebook to run (default: notebooks/quickstart.ipynb of this checkout)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds any one cell may run before the job fails (default: 900)",
    )
    return parser.parse_args(argv)


def missing_modules(notebook: Path) -> list[str]:
    """Names of the modules the job needs that this Python cannot import."""
    needed = ["nbsweep", "nbclient", "nbformat", "jupyter_client", "ipykernel", "matplotlib"]
    if notebook.resolve() == DEFAULT_NOTEBOOK:
        needed.append("torch")  # the quickstart trains a PyTorch network
    return [name for name in needed if importlib.util.find_spec(name) is None]


def clear_previous(out: Path, notebook_name: str) -> None:
    """Remove what an earlier run left in ``out``, so nothing stale is taken for new."""
    stale = [STORE_NAME, f"{STORE_NAME}-wal", f"{STORE_NAME}-shm", notebook_name]
    stale += [f"{name}.png" for name in FIGURES]
    for name in stale:
        (out / name).unlink(missing_ok=True)


def label(name: str, value: str) -> str:
    """One summary line: ``name:`` padded, then the value."""
    return f"{name + ':':<10}{value}"


def execute_notebook(notebook: Path, out: Path, store_path: Path, timeout: float) -> float:
    """Run every cell in a fresh kernel of this Python; save the result in ``out``.

    Returns the seconds it took. Raises :class:`JobError` when a cell fails or times out or
    the kernel dies; the notebook is saved as far as it ran either way.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(notebook, as_version=4)
    env = dict(os.environ)
    env["NBSWEEP_STORE"] = str(store_path)
    env.pop("NBSWEEP_RUN_ID", None)  # a run id left in the environment would attach to it
    saved = out / notebook.name
    with tempfile.TemporaryDirectory(prefix="nbsweep-kernel-") as spec_root:
        client = NotebookClient(
            nb,
            km=this_python_kernel(Path(spec_root)),
            timeout=timeout,
            resources={"metadata": {"path": str(out)}},  # the kernel's working directory
        )
        start = time.perf_counter()
        try:
            # nbclient shuts down only kernels it made itself unless told to (cleanup_kc).
            client.execute(env=env, cleanup_kc=True)
        except CellExecutionError as err:
            raise JobError(
                f"the notebook failed in {failed_cell(nb)}: {err.ename}: {err.evalue}\n"
                f"  the notebook as far as it ran: {saved}"
            ) from None
        except CellTimeoutError:
            raise JobError(
                f"a cell ran longer than {timeout:g} s (--timeout); the notebook as far as "
                f"it ran: {saved}"
            ) from None
        except DeadKernelError as err:
            raise JobError(
                f"the kernel died: {err}; the notebook as far as it ran: {saved}"
            ) from None
        finally:
            nbformat.write(nb, saved)
        seconds = time.perf_counter() - start
    errors = [f"cell {i} ({c.get('id')})" for i, c in enumerate(nb.cells) if has_error(c)]
    if errors:
        raise JobError(f"the executed notebook shows errors in {', '.join(errors)}: {saved}")
    return seconds


def this_python_kernel(spec_root: Path) -> Any:
    """Return a kernel manager whose only kernel is ipykernel on this very Python.

    A ``python3`` kernelspec installed for the user (``ipykernel install --user``) may name
    another Python, one without torch or nbsweep; a private spec directory rules that out.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    spec_dir = spec_root / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(spec_root / "kernels")], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)


def has_error(cell: Any) -> bool:
    """Tell whether a code cell holds an error output."""
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def failed_cell(nb: Any) -> str:
    """Name the first cell that holds an error output."""
    for index, cell in enumerate(nb.cells):
        if has_error(cell):
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            return f"cell {index} (id {cell.get('id')!r}, `{first}`)"
    return "a cell"


def summarise(store_path: Path, out: Path) -> tuple[list[str], list[str]]:
    """Read the sweep back from the store; save its figures. Return summary lines, problems."""
    import matplotlib

    matplotlib.use("Agg")
    import nbsweep
    from nbsweep.analysis import format_value
    from nbsweep.store import open_store

    store = open_store(store_path)
    sweeps = store.list_sweeps()  # newest first
    if not sweeps:
        return [], [f"the notebook created no sweep in {store_path}"]
    sweep = nbsweep.Sweep(sweeps[0].id, store=store)
    runs = sweep.runs
    problems: list[str] = []
    if len(sweeps) > 1:
        problems.append(f"the store holds {len(sweeps)} sweeps; summarised the newest")

    lines = [label("sweep", f"{sweep.id} ({sweep.config.method}, {sweep.state})")]
    states = Counter(run.state for run in runs)
    order = [*STATE_ORDER, *sorted(set(states) - set(STATE_ORDER))]
    counts = ", ".join(f"{states[s]} {s}" for s in order if states[s])
    lines.append(label("runs", counts or "none"))
    if not runs:
        problems.append("the sweep has no runs")
    for run in runs:
        if run.state not in OK_STATES:
            why = f": {run.error_summary}" if run.error_summary else ""
            state = "is still running" if run.state == "running" else run.state
            problems.append(f"run {run.id} {state}{why}")

    metric, goal = sweep.config.metric_name, sweep.config.goal
    best = sweep.best_run if metric else None
    if best is None:
        lines.append(label("best", "none (no finished run has a value of the metric)"))
        problems.append(f"no run has a finite {metric or 'metric'}")
    else:
        lines.append(label("best", f"{metric} = {best.metric_value:.6g} ({goal}), run {best.id}"))
        config = ", ".join(f"{k}={format_value(v)}" for k, v in sorted(best.config.items()))
        lines.append(label("  config", config))
        last = {k: v for k, v in sorted(best.summary.items()) if isinstance(v, int | float)}
        if last:
            text = ", ".join(f"{k}={format_value(v)}" for k, v in last.items())
            lines.append(label("  last", text))

    paths = []
    for name, method in FIGURES.items():
        path = out / f"{name}.png"
        try:
            figure = getattr(sweep, method)()
            figure.savefig(path, dpi=100)
        except Exception as err:  # a view that cannot draw fails the job, not the summary
            problems.append(f"could not draw {name}: {type(err).__name__}: {err}")
            continue
        paths.append(str(path))
    lines.append(label("figures", ("\n" + " " * 10).join(paths) or "none"))
    return lines, problems


if __name__ == "__main__":
    sys.exit(main())
