"""Fixtures shared by the engine tests."""

from __future__ import annotations

import numpy as np
import pytest

from psychrnn_widgets.engine import NetworkConfig, build_network


@pytest.fixture()
def network():
    """A float64 rate RNN with Dale's law and a recurrent mask, for penalty formulas."""
    mask = np.ones((6, 6))
    mask[:2, 3:] = 0.0
    config = NetworkConfig(
        N_in=2, N_rec=6, N_out=3, dale_ratio=0.5, rec_connectivity=mask, seed=4, dtype="float64"
    )
    return build_network(config)
