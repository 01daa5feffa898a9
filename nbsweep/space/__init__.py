"""Parameter distributions and the search space they form."""

from nbsweep.space._distributions import Distribution, Encoding, make_distribution
from nbsweep.space._space import Param, Space

__all__ = ["Distribution", "Encoding", "Param", "Space", "make_distribution"]
