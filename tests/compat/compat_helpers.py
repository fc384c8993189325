"""Helpers shared by the compat tests."""

from __future__ import annotations


def small_params(name: str = "model", **overrides: object) -> dict:
    """Return a complete PsychRNN network params dict for a small network (10 units, 30 steps)."""
    params = {
        "name": name,
        "N_in": 2,
        "N_rec": 10,
        "N_out": 2,
        "N_steps": 30,
        "dt": 10.0,
        "tau": 100.0,
        "N_batch": 4,
    }
    params.update(overrides)
    return params
