"""Views of a sweep: plain data objects, matplotlib figures, and the live dashboard widget.

The figures and the dashboard draw from the same data objects.
"""

from nbsweep.views._builder import Builder
from nbsweep.views._dashboard import Dashboard, brush_mask
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
    "Builder",
    "Curve",
    "CurvesData",
    "Dashboard",
    "ParallelData",
    "ParallelRun",
    "brush_mask",
    "build_curves_data",
    "build_parallel_data",
    "plot_curves",
    "plot_importance",
    "plot_parallel_coordinates",
]
