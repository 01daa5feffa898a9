"""Test data copied into the project: W&B vectors, cases from bug reports, real configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbsweep.config import loads_yaml

DATA = Path(__file__).parent / "data"


def load_vectors() -> list[dict[str, Any]]:
    """The W&B test vectors (config, action, what W&B does)."""
    return list(loads_yaml((DATA / "wandb-vectors.yaml").read_text())["vectors"])


def vector(vector_id: str) -> dict[str, Any]:
    """One test vector by id."""
    return next(v for v in load_vectors() if v["id"] == vector_id)


def case(case_id: str) -> dict[str, Any]:
    """One case made from a public bug report."""
    return dict(loads_yaml((DATA / "cases" / f"{case_id}.yaml").read_text()))
