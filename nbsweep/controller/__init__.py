"""Claiming runs: the controller is a function inside one store transaction."""

from nbsweep.controller._claim import Claim, claim_next_run, crash_grace_s, run_rng, sweep_space

__all__ = ["Claim", "claim_next_run", "crash_grace_s", "run_rng", "sweep_space"]
