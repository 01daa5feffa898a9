"""What hyperband early termination buys on a learning-curve task, one command.

Usage: ``.venv/bin/python benchmarks/hyperband.py [--quick] [--out PATH]``

The task: an MLP on scikit-learn's ``load_digits`` (a fixed stratified split, 1168 images to
train on, 629 to validate), trained with mini-batches of 64 for ``epochs`` epochs; an epoch is
an iteration, and the validation cross-entropy ``val_loss`` is logged after each one as the
sweep's metric. The search space is wide on purpose: learning rate log-uniform over 1e-5..1,
width, depth, Adam or SGD (momentum 0.9), weight decay log-uniform over 1e-6..1e-1, so some
configs learn well, some barely move and some diverge.

For each seed, every sweep is a random search with that seed (the same configs in the same
order) run through ``nbsweep.agent(..., background=False)`` on one SQLite store:

``none``
    no early termination: the full budget, the reference.
``hb``
    ``early_terminate: {type: hyperband, min_iter: 3, eta: 3}`` (bands 3 and 9); the same sweep
    is then continued with more configs until it has trained as many epochs as ``none``, for
    the equal-compute view.
``hb_loose``, ``hb_eta2``, ``hb_min2``
    the same with ``strict: false``, with ``eta: 2`` and with ``min_iter: 2``.

Every run seeds torch with the benchmark seed and trains on one thread, so a config's curve
is the same in every sweep: a stopped run's curve is a prefix of its curve in ``none``.

Reported per sweep (medians over seeds): runs stopped and the bands where they were stopped,
epochs trained (the compute), wall time, compute saved against ``none``, the best validation
loss of any run (finished or stopped, each run's best epoch, as nbsweep's ``best_run``
reads it), whether ``none``'s best config ran to the end, and how many of ``none``'s five best
configs were stopped. A second table gives the best validation loss found after 25/50/75/100%
of ``none``'s epochs, for ``none`` and for ``hb`` continued.

Checked from the store (``nbsweep.Sweep(id).runs``), the command exits 1 when a check fails:
no run failed; ``none`` stopped nothing; every stopped run has a ``hyperband:`` reason; each
run's stored ``metric_count`` equals the epochs it trained; the configs and curves match
``none``'s run for run; and the stops are the ones that README's rule predicts, replayed here
independently on ``none``'s curves.

Prints markdown tables and writes ``benchmarks/results/hyperband.json``. The full run (5
seeds, 50 runs of 25 epochs) takes about 4 minutes on a 2-core machine; everything but the
wall times is the same on every run. ``--quick`` is a smoke run of about 10 s (1 seed, 12 runs
of 10 epochs) whose figures are not comparable with the full run's.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import nbsweep

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "hyperband.json"

FULL = {"runs": 50, "epochs": 25, "seeds": [0, 1, 2, 3, 4]}
QUICK = {"runs": 12, "epochs": 10, "seeds": [0]}

METRIC = "val_loss"
BATCH = 64
PARAMETERS: dict[str, Any] = {
    "learning_rate": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0},
    "width": {"values": [16, 64, 256]},
    "depth": {"values": [1, 2]},
    "optimizer": {"values": ["adam", "sgd"]},
    "weight_decay": {"distribution": "log_uniform_values", "min": 1e-6, "max": 1e-1},
}
# The sweeps of each seed, in the order they run; None: no early termination.
VARIANTS: dict[str, dict[str, Any] | None] = {
    "none": None,
    "hb": {"type": "hyperband", "min_iter": 3, "eta": 3},
    "hb_loose": {"type": "hyperband", "min_iter": 3, "eta": 3, "strict": False},
    "hb_eta2": {"type": "hyperband", "min_iter": 3, "eta": 2},
    "hb_min2": {"type": "hyperband", "min_iter": 2, "eta": 3},
}
WARMUP = {"learning_rate": 1e-3, "width": 64, "depth": 2, "optimizer": "adam", "weight_decay": 0}
CONTINUED = "hb"  # the variant continued to the reference's budget
TOP = 5  # "good configs": the reference's best TOP runs
BUDGET_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
REASON = re.compile(r"^hyperband: \S+ at iteration (\d+) is worse than the threshold \S+ set by")


# The task ------------------------------------------------------------------------------------


def load_data() -> dict[str, torch.Tensor]:
    """The digits, split once (stratified, fixed seed) and standardised on the training part."""
    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.35, random_state=0, stratify=y
    )
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0  # pixels blank in every training image stay zero

    def features(a: np.ndarray) -> torch.Tensor:
        return torch.tensor((a - mean) / std, dtype=torch.float32)

    return {
        "x_train": features(x_train),
        "y_train": torch.tensor(y_train),
        "x_val": features(x_val),
        "y_val": torch.tensor(y_val),
    }


def learning_curve(
    config: Mapping[str, Any], data: Mapping[str, torch.Tensor], epochs: int, seed: int
) -> Iterator[dict[str, float]]:
    """Train one config; yield the train loss, validation loss and accuracy after each epoch."""
    torch.set_num_threads(1)  # on a 2-core machine more threads are far slower at this size
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    width_in = data["x_train"].shape[1]
    for _ in range(int(config["depth"])):
        layers += [torch.nn.Linear(width_in, int(config["width"])), torch.nn.ReLU()]
        width_in = int(config["width"])
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width_in, 10))
    lr, decay = float(config["learning_rate"]), float(config["weight_decay"])
    if config["optimizer"] == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(
            model.parameters(), lr=lr, weight_decay=decay
        )
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=decay)
    shuffle = torch.Generator().manual_seed(seed)
    x, y = data["x_train"], data["y_train"]
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=shuffle)
        total = 0.0
        for start in range(0, len(x), BATCH):
            batch = order[start : start + BATCH]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        model.eval()
        with torch.no_grad():
            logits = model(data["x_val"])
            val_loss = float(torch.nn.functional.cross_entropy(logits, data["y_val"]))
            val_acc = float((logits.argmax(dim=1) == data["y_val"]).float().mean())
        yield {"train_loss": total / len(x), METRIC: val_loss, "val_acc": val_acc}


class Train:
    """The agent's function: one run, one ``run.log`` per epoch; counts the epochs it trains."""

    def __init__(self, data: Mapping[str, torch.Tensor], epochs: int, seed: int) -> None:
        self.data, self.epochs, self.seed = data, epochs, seed
        self.trained: dict[str, int] = {}

    def __call__(self) -> None:
        run = nbsweep.init()
        self.trained[run.id] = 0
        for epoch, row in enumerate(learning_curve(run.config, self.data, self.epochs, self.seed)):
            self.trained[run.id] += 1
            run.log({**row, "epoch": epoch + 1})  # raises nbsweep.StopRun when hyperband stops


# Running and reading sweeps ------------------------------------------------------------------


def bands(spec: Mapping[str, Any], epochs: int) -> list[int]:
    """The bands below the last epoch (a stop at the last epoch saves nothing)."""
    out, band = [], float(spec["min_iter"])
    while band < epochs:
        out.append(int(band))
        band *= float(spec["eta"])
    return out


def create(store: Path, variant: str, seed: int) -> str:
    config: dict[str, Any] = {
        "method": "random",
        "metric": {"name": METRIC, "goal": "minimize"},
        "parameters": PARAMETERS,
    }
    if VARIANTS[variant] is not None:
        config["early_terminate"] = VARIANTS[variant]
    return nbsweep.sweep(config, store=store, seed=seed, name=f"{variant}-seed{seed}")


def agent(store: Path, sweep_id: str, train: Train, count: int) -> float:
    """Run ``count`` runs of the sweep in this thread; return the wall time."""
    start = time.perf_counter()
    handle = nbsweep.agent(
        sweep_id,
        train,
        count=count,
        store=store,
        background=False,
        verbose=False,
        display=False,
        max_consecutive_failures=None,
    )
    wall = time.perf_counter() - start
    progress = handle.progress
    if progress.state != "finished" or progress.started != count:
        raise RuntimeError(f"agent on {sweep_id} ended {progress.state}: {progress}")
    return wall


def read(store: Path, sweep_id: str, train: Train) -> list[dict[str, Any]]:
    """The sweep's runs from the store, in claim order."""
    runs = []
    for run in sorted(nbsweep.Sweep(sweep_id, store=store).runs, key=lambda r: r.seq):
        runs.append(
            {
                "seq": run.seq,
                "id": run.id,
                "config": run.config,
                "state": run.state,
                "stop_reason": run.stop_reason,
                "metric_value": run.metric_value,
                "metric_count": run.metric_count,
                "trained": train.trained.get(run.id),
                "curve": [value for _, value in run.metric_history(METRIC)],
            }
        )
    return runs


def best_so_far(runs: Sequence[Mapping[str, Any]]) -> list[float]:
    """The best finite value found after each epoch trained, runs taken in claim order."""
    out, best = [], math.inf
    for run in runs:
        for value in run["curve"]:
            if math.isfinite(value):
                best = min(best, value)
            out.append(best)
    return out


def replay(
    spec: Mapping[str, Any], curves: Sequence[Sequence[float]], epochs: int
) -> list[int | None]:
    """README's rule applied to complete curves, run after run: the epoch each run stops at.

    An iteration is a finite value; at every finite value from the first band on, the run's
    value at the largest band reached (``strict: false``: its best so far) is compared with
    the value at place ``int(n / eta)``, best first, of the n values at that band of every
    earlier run (as far as it got) and its own; worse stops it.
    """
    eta, strict = float(spec["eta"]), spec.get("strict", True)
    all_bands = bands(spec, 10**9)
    kept: list[list[float]] = []  # each earlier run's finite values, up to its stop
    out: list[int | None] = []
    for curve in curves:
        finite: list[float] = []
        stop = None
        for epoch, value in enumerate(curve[:epochs], start=1):
            if not math.isfinite(value):
                continue
            finite.append(value)
            reached = [b for b in all_bands if b <= len(finite)]
            if not reached:
                continue
            band = reached[-1]
            values = sorted([h[band - 1] for h in kept if len(h) >= band] + [finite[band - 1]])
            threshold = values[int(len(values) / eta)]
            if (finite[band - 1] if strict else min(finite)) > threshold:
                stop = epoch
                break
        kept.append(finite)
        out.append(stop)
    return out


# Summaries -----------------------------------------------------------------------------------


def summarize(
    variant: str,
    runs: Sequence[Mapping[str, Any]],
    ref: Sequence[Mapping[str, Any]],
    wall: float,
    epochs: int,
    checks: list[str],
) -> dict[str, Any]:
    """One sweep's figures against the reference sweep, checking its store as it goes."""
    spec = VARIANTS[variant]
    where = f"{variant} seq"
    stopped_at: Counter[int] = Counter()
    for run, twin in zip(runs, ref, strict=True):
        label = f"{where} {run['seq']}"
        if run["state"] not in ("finished", "stopped") or (
            spec is None and run["state"] != "finished"
        ):
            checks.append(f"{label}: state {run['state']} ({run['stop_reason']})")
        if run["metric_count"] != run["trained"] or len(run["curve"]) != run["trained"]:
            checks.append(
                f"{label}: metric_count {run['metric_count']}, {len(run['curve'])} values "
                f"stored, {run['trained']} epochs trained"
            )
        if run["config"] != twin["config"]:
            checks.append(f"{label}: config {run['config']} != none's {twin['config']}")
        if run["curve"] != twin["curve"][: len(run["curve"])]:
            checks.append(f"{label}: curve is not a prefix of none's curve for the config")
        if run["state"] == "stopped":
            match = REASON.match(run["stop_reason"] or "")
            if match is None:
                checks.append(f"{label}: stopped with reason {run['stop_reason']!r}")
            else:
                stopped_at[int(match.group(1))] += 1
        elif run["trained"] != epochs:
            checks.append(f"{label}: finished after {run['trained']} of {epochs} epochs")
    if spec is not None:
        predicted = replay(spec, [r["curve"] for r in ref], epochs)
        for run, stop in zip(runs, predicted, strict=True):
            seen = run["trained"] if run["state"] == "stopped" else None
            if seen != stop:
                checks.append(
                    f"{where} {run['seq']}: stopped at epoch {seen}, README's rule says {stop}"
                )

    ranked = sorted(ref, key=lambda r: (r["metric_value"] is None, r["metric_value"] or 0))
    best_ref = ranked[0]
    top = {r["seq"] for r in ranked[:TOP]}
    by_seq = {r["seq"]: r for r in runs}
    values = [r["metric_value"] for r in runs if r["metric_value"] is not None]
    trained = sum(r["trained"] for r in runs)
    ref_trained = sum(r["trained"] for r in ref)
    return {
        "runs": len(runs),
        "bands": bands(spec, epochs) if spec else [],
        "stopped": sum(stopped_at.values()),
        "stopped_at": {str(b): n for b, n in sorted(stopped_at.items())},
        "epochs": trained,
        "saved_pct": 100.0 * (1 - trained / ref_trained),
        "wall_s": wall,
        "best": min(values),
        "best_seq": min(runs, key=lambda r: r["metric_value"] or math.inf)["seq"],
        "ref_best_seq": best_ref["seq"],
        "ref_best_kept": by_seq[best_ref["seq"]]["state"] == "finished",
        "same_best": min(values) == best_ref["metric_value"],
        "top_stopped": sum(by_seq[s]["state"] == "stopped" for s in top),
        "top_stopped_detail": [
            {
                "rank": rank,
                "seq": r["seq"],
                "config": r["config"],
                "stopped_at": by_seq[r["seq"]]["trained"],
                "value_then": by_seq[r["seq"]]["curve"][-1],
                "full_best": r["metric_value"],
            }
            for rank, r in enumerate(ranked[:TOP], start=1)
            if by_seq[r["seq"]]["state"] == "stopped"
        ],
        "stops": {str(r["seq"]): r["trained"] for r in runs if r["state"] == "stopped"},
        "nonfinite_epochs": sum(not math.isfinite(v) for r in runs for v in r["curve"]),
    }


def describe(config: Mapping[str, Any]) -> str:
    return (
        f"{config['optimizer']} lr {config['learning_rate']:.2g}, "
        f"{config['depth']}x{config['width']}, wd {config['weight_decay']:.1g}"
    )


def median(rows: Sequence[Mapping[str, Any]], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def sweep_table(per_seed: Sequence[Mapping[str, Any]], epochs: int) -> str:
    n = len(per_seed)
    lines = [
        "| early_terminate | bands | stopped (at band) | epochs trained | compute saved "
        "| wall s | best val loss | same best | none's best kept | none's top 5 stopped |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for variant, spec in VARIANTS.items():
        rows = [seed["sweeps"][variant] for seed in per_seed]
        if spec is None:
            label = "none"
        else:
            label = ", ".join(f"{k}: {str(v).lower()}" for k, v in spec.items() if k != "type")
        all_bands = rows[0]["bands"]
        at = ", ".join(
            f"{b}: {statistics.median(r['stopped_at'].get(str(b), 0) for r in rows):g}"
            for b in all_bands
        )
        lines.append(
            f"| {label} | {', '.join(map(str, all_bands)) or '—'} "
            f"| {median(rows, 'stopped'):g} of {rows[0]['runs']}{f' ({at})' if at else ''} "
            f"| {median(rows, 'epochs'):g} | {median(rows, 'saved_pct'):.0f}% "
            f"| {median(rows, 'wall_s'):.1f} | {median(rows, 'best'):.4f} "
            f"| {sum(r['same_best'] for r in rows)}/{n} "
            f"| {sum(r['ref_best_kept'] for r in rows)}/{n} "
            f"| {median(rows, 'top_stopped'):g} |"
        )
    return "\n".join(lines)


def budget_table(per_seed: Sequence[Mapping[str, Any]]) -> str:
    lines = [
        f"| budget (of none's epochs) | none | {CONTINUED} continued "
        f"| {CONTINUED} better / same |",
        "|---|---|---|---|",
    ]
    for i, fraction in enumerate(BUDGET_FRACTIONS):
        pairs = [(seed["budget"]["none"][i], seed["budget"][CONTINUED][i]) for seed in per_seed]
        ref = statistics.median(a for a, _ in pairs)
        cont = statistics.median(b for _, b in pairs)
        better = sum(b < a for a, b in pairs)
        same = sum(b == a for a, b in pairs)
        lines.append(
            f"| {fraction:.0%} | {ref:.4f} | {cont:.4f} | {better} / {same} of {len(pairs)} |"
        )
    return "\n".join(lines)


# Main ----------------------------------------------------------------------------------------


def run_seed(
    store: Path, data: Mapping[str, torch.Tensor], seed: int, size: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    n_runs, epochs = size["runs"], size["epochs"]
    train = Train(data, epochs, seed)
    checks: list[str] = []
    out: dict[str, Any] = {"seed": seed, "sweeps": {}, "sweep_ids": {}}
    ref: list[dict[str, Any]] = []
    for variant in VARIANTS:
        sweep_id = create(store, variant, seed)
        out["sweep_ids"][variant] = sweep_id
        wall = agent(store, sweep_id, train, n_runs)
        runs = read(store, sweep_id, train)
        if variant == "none":
            ref = runs
        out["sweeps"][variant] = summarize(variant, runs, ref, wall, epochs, checks)
        if variant == CONTINUED:
            # More configs until it has trained as many epochs as none: each call asks for no
            # more runs than the epochs left could fill if none were stopped.
            budget = out["sweeps"]["none"]["epochs"]
            used = out["sweeps"][variant]["epochs"]
            while used < budget:
                wall += agent(store, sweep_id, train, math.ceil((budget - used) / epochs))
                used = sum(train.trained[r["id"]] for r in read(store, sweep_id, train))
            more = read(store, sweep_id, train)
            out["continued"] = {
                "runs": len(more),
                "epochs": used,
                "stopped": sum(r["state"] == "stopped" for r in more),
                "wall_s": wall,
                "best": min(r["metric_value"] for r in more if r["metric_value"] is not None),
            }
            for run in more:
                if run["state"] not in ("finished", "stopped"):
                    checks.append(f"{variant} continued seq {run['seq']}: {run['state']}")
            curve_cont = best_so_far(more)
        if variant == "none":
            curve_ref = best_so_far(runs)
    budget = len(curve_ref)
    out["budget"] = {
        name: [curve[min(len(curve), math.ceil(f * budget)) - 1] for f in BUDGET_FRACTIONS]
        for name, curve in (("none", curve_ref), (CONTINUED, curve_cont))
    }
    out["runs_none"] = [{k: r[k] for k in ("seq", "config", "metric_value", "curve")} for r in ref]
    return out, checks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of under a minute")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON to write")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    data = load_data()
    started = time.perf_counter()
    # Warm-up: torch's first training run in a process is several times slower.
    for _ in learning_curve(WARMUP, data, 3, 0):
        pass
    per_seed, checks = [], []
    with tempfile.TemporaryDirectory(prefix="nbsweep-hyperband-") as tmp:
        store = Path(tmp) / "nbsweep.db"
        for seed in size["seeds"]:
            t0 = time.perf_counter()
            result, failed = run_seed(store, data, seed, size)
            per_seed.append(result)
            checks += [f"seed {seed}: {line}" for line in failed]
            print(f"seed {seed}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    total = time.perf_counter() - started

    epochs = size["epochs"]
    print(
        f"## Hyperband on digits: {size['runs']} random configs x {epochs} epochs, "
        f"medians over {len(size['seeds'])} seeds\n"
    )
    print(sweep_table(per_seed, epochs))
    lost = [
        f"seed {seed['seed']}: #{d['rank']} ({describe(d['config'])}) at epoch {d['stopped_at']} "
        f"with {d['value_then']:.3f}, {d['full_best']:.4f} when run to the end"
        for seed in per_seed
        for d in seed["sweeps"][CONTINUED]["top_stopped_detail"]
    ]
    if lost:
        print(f"\nOf none's {TOP} best configs, {CONTINUED} stopped:", *lost, sep="\n- ")
    cont = [seed["continued"] for seed in per_seed]
    print(
        f"\nBest validation loss after a share of none's epochs; {CONTINUED} goes on with new "
        f"configs until it has used them all (median {median(cont, 'runs'):g} runs, "
        f"{median(cont, 'stopped'):g} stopped, {median(cont, 'wall_s'):.1f} s):\n"
    )
    print(budget_table(per_seed))
    nonfinite = sum(s["nonfinite_epochs"] for seed in per_seed for s in seed["sweeps"].values())
    if nonfinite:
        print(
            f"\n{nonfinite} epochs logged a NaN or inf val_loss: not iterations, so hyperband "
            "never judged them."
        )
    print(f"\nTotal {total:.0f} s.")
    record = {
        "command": "benchmarks/hyperband.py" + (" --quick" if args.quick else ""),
        "size": size,
        "parameters": PARAMETERS,
        "variants": VARIANTS,
        "batch_size": BATCH,
        "total_s": total,
        "medians": {
            variant: {
                key: median([seed["sweeps"][variant] for seed in per_seed], key)
                for key in ("stopped", "epochs", "saved_pct", "wall_s", "best", "top_stopped")
            }
            for variant in VARIANTS
        },
        "per_seed": per_seed,
        "checks_failed": checks,
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "nbsweep": nbsweep.__version__,
            "machine": platform.platform(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"Wrote {args.out}", file=sys.stderr)
    if checks:
        print(f"\n{len(checks)} check(s) failed:", *checks, sep="\n  ", file=sys.stderr)
        return 1
    print(
        "\nStore checks passed: no run failed, every stop has a hyperband: reason, the stops "
        "are README's rule's, and every run's curve is its none twin's prefix."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
