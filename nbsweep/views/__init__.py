"""Views of a sweep: plain data objects, and matplotlib figures drawn from them."""

from nbsweep.views._data import (
    AXIS_KINDS,
    Axis,
    Curve,
    CurvesData,
    ParallelData,
    ParallelRun,
    build_curves_data,
    build_parallel_data,
)
from nbsweep.views._static import plot_curves, plot_importance, plot_parallel_coordinates

__all__ = [
    "AXIS_KINDS",
    "Axis",
    "Curve",
    "CurvesData",
    "ParallelData",
    "ParallelRun",
    "build_curves_data",
    "build_parallel_data",
    "plot_curves",
    "plot_importance",
    "plot_parallel_coordinates",
]
