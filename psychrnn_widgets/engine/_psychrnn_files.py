"""Mapping between PsychRNN's weight-file keys and this package's configs.

PsychRNN (1.0.0 and its main branch) writes ``W_in``, ``W_rec``, ``W_out`` (effective values),
``b_rec``, ``b_out``, ``init_state``, the three connectivity masks, ``Dale_rec``, ``Dale_out``
(N_rec x N_rec diagonals), ``dale_ratio`` (a float, or None as an object array), optionally
``transfer_function`` (a pickled function reference) and Adam slots named ``<var>/Adam...``,
which are ignored here. Its LSTM adds ``W_f``, ``W_i``, ``W_c``, ``W_o``, their biases and
``init_hidden``/``init_cell`` of shape (N_batch, N_rec).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from psychrnn_widgets.engine._safe_pickle import FunctionReference
from psychrnn_widgets.engine.config import NetworkConfig
from psychrnn_widgets.errors import WeightFileError

logger = logging.getLogger(__name__)


def constraint_arrays(config: NetworkConfig) -> dict[str, np.ndarray]:
    """Return the PsychRNN constraint entries (masks, Dale matrices, dale_ratio) of a rate RNN.

    A None ``dale_ratio`` is left out, because PsychRNN can only store it as an object array;
    PsychRNN reads a missing key as None.
    """
    arrays = dict(config.masks())
    dale = config.dale_vectors()
    if dale is None:
        arrays["Dale_rec"] = np.eye(config.N_rec)
        arrays["Dale_out"] = np.eye(config.N_rec)
    else:
        arrays["Dale_rec"] = np.diag(dale[0])
        arrays["Dale_out"] = np.diag(dale[1])
        arrays["dale_ratio"] = np.array(config.dale_ratio)
    return arrays


def _shape(entries: Mapping[str, Any], key: str, ndim: int) -> tuple[int, ...]:
    value = entries.get(key)
    if not isinstance(value, np.ndarray) or value.ndim != ndim:
        raise WeightFileError(f"weight file entry {key!r} is missing or is not a {ndim}-d array")
    return value.shape


def _dale_out_inhibitory(entries: Mapping[str, Any], dale_ratio: float, n_rec: int) -> float:
    """Check the file's Dale matrices against ``dale_ratio`` and return D_out's inhibitory entry."""
    n_e = int(dale_ratio * n_rec)
    expected_rec = np.array([1.0] * n_e + [-1.0] * (n_rec - n_e))
    for key in ("Dale_rec", "Dale_out"):
        matrix = entries.get(key)
        if matrix is None:
            continue
        if matrix.shape != (n_rec, n_rec) or np.count_nonzero(matrix - np.diag(np.diag(matrix))):
            raise WeightFileError(
                f"weight file entry {key!r} must be a diagonal ({n_rec}, {n_rec}) matrix"
            )
    if "Dale_rec" in entries and not np.array_equal(np.diag(entries["Dale_rec"]), expected_rec):
        raise WeightFileError(
            f"weight file entry 'Dale_rec' does not match dale_ratio={dale_ratio:g}: the first {n_e} units must be +1 "
            "and the rest -1"
        )
    if "Dale_out" not in entries or n_e == n_rec:
        return 0.0
    diagonal = np.diag(entries["Dale_out"])
    inhibitory = set(diagonal[n_e:].tolist())
    if not np.all(diagonal[:n_e] == 1.0) or inhibitory not in ({0.0}, {-1.0}):
        raise WeightFileError(
            "weight file entry 'Dale_out' must be 1 for excitatory units and all 0 or all -1 for inhibitory ones"
        )
    return inhibitory.pop()


def _transfer_function(entries: Mapping[str, Any]) -> str:
    stored = entries.get("transfer_function")
    if stored is None:
        # PsychRNN 1.0.0 does not save the transfer function; its default is ReLU.
        logger.info("Weight file has no transfer_function entry; using relu, PsychRNN's default")
        return "relu"
    if isinstance(stored, FunctionReference):
        return stored.transfer_function
    raise WeightFileError(
        f"weight file entry 'transfer_function' must be a function reference (got {stored!r})"
    )


def config_from_entries(entries: Mapping[str, Any], overrides: Mapping[str, Any]) -> NetworkConfig:
    """Build the config of a PsychRNN weight file; ``overrides`` (dt, tau...) take precedence."""
    values: dict[str, Any] = {"transfer_function": _transfer_function(entries)}
    if "W_f" in entries:
        n_total, n_rec = _shape(entries, "W_f", 2)
        n_out = _shape(entries, "W_out", 2)[0]
        values.update(
            N_in=n_total - n_rec,
            N_rec=n_rec,
            N_out=n_out,
            model="lstm",
            lstm_hidden_activation="sigmoid",
        )
    else:
        n_rec, n_in = _shape(entries, "W_in", 2)
        n_out = _shape(entries, "W_out", 2)[0]
        values.update(N_in=n_in, N_rec=n_rec, N_out=n_out)
        for key in ("input_connectivity", "rec_connectivity", "output_connectivity"):
            if key in entries:
                values[key] = entries[key]
        dale_ratio = entries.get("dale_ratio")
        if isinstance(dale_ratio, np.ndarray):
            dale_ratio = float(dale_ratio)
        if dale_ratio is not None and not isinstance(dale_ratio, (int, float)):
            raise WeightFileError(
                f"weight file entry 'dale_ratio' must be None or a number (got {dale_ratio!r})"
            )
        if dale_ratio is not None:
            values["dale_ratio"] = float(dale_ratio)
            values["dale_out_inhibitory"] = _dale_out_inhibitory(entries, float(dale_ratio), n_rec)
    values.update(overrides)
    return NetworkConfig(**values)


def lstm_arrays(entries: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``entries`` with PsychRNN's per-trial LSTM initial states reduced to row 0.

    PsychRNN's LSTM trains one initial hidden and cell state per batch row, because its batch
    size is fixed. This package's LSTM shares one of each across trials, so row 0 is kept, as
    PsychRNN's own LSTM simulator does.
    """
    result = dict(entries)
    for key in ("init_hidden", "init_cell"):
        value = result.get(key)
        if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[0] > 1:
            result[key] = value[:1]
    return result
