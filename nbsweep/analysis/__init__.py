"""Analysis of a sweep's runs: parameter importance, the best run, a table of runs."""

from nbsweep.analysis._best import RunsTable, best_run, format_value, runs_table
from nbsweep.analysis._importance import (
    MIN_RUNS,
    ImportanceData,
    LevelCorrelation,
    ParamImportance,
    build_importance_data,
    category_levels,
    pearson,
)

__all__ = [
    "MIN_RUNS",
    "ImportanceData",
    "LevelCorrelation",
    "ParamImportance",
    "RunsTable",
    "best_run",
    "build_importance_data",
    "category_levels",
    "format_value",
    "pearson",
    "runs_table",
]
