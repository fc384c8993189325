"""Initial weights of the rate RNN: Glorot draws, spectral radius, alpha-identity, Dale balancing.

All draws come from one ``numpy.random.Generator``, in a fixed order (W_in, W_out, W_rec,
init_state), so a seed gives the same network every time. Values passed in
``NetworkConfig.initial_weights`` (arrays or a weight file) replace the drawn ones.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError

if TYPE_CHECKING:
    from psychrnn_widgets.engine.config import NetworkConfig

__all__ = [
    "alpha_identity_init",
    "balance_dale",
    "glorot_normal",
    "glorot_uniform",
    "initial_rate_weights",
    "override_weights",
    "spectral_radius_init",
]

logger = logging.getLogger(__name__)


def _fan_sum(mask: np.ndarray) -> np.ndarray:
    """Return fan_in (row sums) + fan_out (column sums) of a connectivity mask for each entry."""
    return mask.sum(axis=1)[:, np.newaxis] + mask.sum(axis=0)[np.newaxis, :]


def glorot_normal(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw entry (i, j) from N(0, 2 / (fan_in_i + fan_out_j)), fans counted on ``mask``.

    Entries whose fans are both 0 are unconnected anyway and get 0.
    """
    fans = _fan_sum(mask)
    std = np.sqrt(2.0 / np.where(fans > 0, fans, np.inf))
    return rng.standard_normal(mask.shape) * std


def glorot_uniform(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw entry (i, j) from U(-b, b) with b = sqrt(6 / (fan_in_i + fan_out_j)), fans on ``mask``."""
    fans = _fan_sum(mask)
    bound = np.sqrt(6.0 / np.where(fans > 0, fans, np.inf))
    return rng.uniform(-1.0, 1.0, size=mask.shape) * bound


def balance_dale(w_rec: np.ndarray, rec_mask: np.ndarray, dale_ratio: float) -> np.ndarray:
    """Scale the columns of ``w_rec`` so that excitation and inhibition roughly balance.

    Column j is multiplied by ``d_j / r_j`` where ``d_j`` is 1 for excitatory units and
    ``dale_ratio / (1 - dale_ratio)`` for inhibitory ones, and ``r_j`` is the L2 norm of row j of
    ``rec_mask`` weighted by ``d``. This is PsychRNN's rule.

    Notes
    -----
    When every unit is excitatory (``dale_ratio`` 1.0) or every unit inhibitory (``dale_ratio``
    small enough that ``int(dale_ratio * N_rec)`` is 0), there is nothing to balance against, so
    ``d`` is all ones (PsychRNN divides by zero at 1.0). A unit whose mask row is all zero keeps
    ``r_j = 1`` instead of dividing by zero.
    """
    n_rec = w_rec.shape[0]
    n_e = int(dale_ratio * n_rec)
    weights = np.ones(n_rec)
    if 0 < n_e < n_rec:
        weights[n_e:] = dale_ratio / (1.0 - dale_ratio)
    norms = np.linalg.norm(rec_mask * weights[np.newaxis, :], axis=1)
    norms = np.where(norms > 0, norms, 1.0)
    return w_rec * (weights / norms)[np.newaxis, :]


def spectral_radius_init(
    n_rec: int,
    spec_rad: float,
    rng: np.random.Generator,
    rec_mask: np.ndarray,
    dale_ratio: float | None,
) -> np.ndarray:
    """Draw a standard normal W_rec, balance it for Dale's law, then scale it to ``spec_rad``.

    The radius is that of the raw signed matrix, before masks and Dale's law, as in PsychRNN, so
    the effective matrix of a masked or Dale network has a somewhat different radius.
    """
    w_rec = rng.standard_normal((n_rec, n_rec))
    if dale_ratio is not None:
        w_rec = balance_dale(w_rec, rec_mask, dale_ratio)
    radius = float(np.max(np.abs(np.linalg.eigvals(w_rec))))
    if radius == 0.0:
        raise InvalidParameterError(
            "spec_rad",
            "spec_rad cannot be reached: the drawn W_rec has spectral radius 0",
            spec_rad,
        )
    return spec_rad * w_rec / radius


def alpha_identity_init(
    gain: float | np.ndarray, n_rec: int, rec_mask: np.ndarray, dale_ratio: float | None
) -> np.ndarray:
    """Return ``gain * I`` (a per-unit gain gives a diagonal), balanced for Dale's law if set."""
    w_rec = np.diag(np.broadcast_to(np.asarray(gain, dtype=np.float64), (n_rec,)).copy())
    if dale_ratio is not None:
        w_rec = balance_dale(w_rec, rec_mask, dale_ratio)
    return w_rec


def initial_rate_weights(config: NetworkConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw every variable of a rate RNN as float64 arrays, then apply ``initial_weights``."""
    masks = config.masks()
    draw = glorot_uniform if config.initializer == "glorot_uniform" else glorot_normal
    weights = {
        "W_in": draw(masks["input_connectivity"], rng),
        "W_out": draw(masks["output_connectivity"], rng),
    }
    if config.initializer in ("glorot_normal", "glorot_uniform"):
        weights["W_rec"] = draw(masks["rec_connectivity"], rng)
    weights["init_state"] = (0.1 + 0.01 * rng.standard_normal(config.N_rec))[np.newaxis, :]
    if config.initializer == "spectral_radius":
        weights["W_rec"] = spectral_radius_init(
            config.N_rec, config.spec_rad, rng, masks["rec_connectivity"], config.dale_ratio
        )
    elif config.initializer == "alpha_identity":
        gain = config.alpha if config.identity_gain is None else config.identity_gain
        weights["W_rec"] = alpha_identity_init(
            gain, config.N_rec, masks["rec_connectivity"], config.dale_ratio
        )
    weights["b_rec"] = np.zeros(config.N_rec)
    weights["b_out"] = np.zeros(config.N_out)
    return override_weights(config, weights)


def override_weights(
    config: NetworkConfig, weights: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Replace drawn values by those of ``config.initial_weights`` (a dict or a weight file)."""
    source = config.initial_weights
    if source is None:
        return weights
    if isinstance(source, str):
        from psychrnn_widgets.engine.io import read_weight_arrays

        source = read_weight_arrays(source, config)
        logger.debug("Initial weights read from %s: %s", config.initial_weights, sorted(source))
    for name, array in source.items():
        weights[name] = np.array(array, dtype=np.float64).reshape(weights[name].shape)
    return weights
