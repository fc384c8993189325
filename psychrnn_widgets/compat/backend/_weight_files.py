"""Read and write PsychRNN ``.npz`` weight files without pickling.

PsychRNN stores ``dale_ratio=None`` and (on its main branch) the transfer function as 0-d object
arrays, i.e. pickles. Unpickling a file can run arbitrary code, so files are read with
:func:`psychrnn_widgets.engine.io.read_weight_file`, which decodes those entries without
executing them and rejects anything but None, numbers and known transfer functions.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from psychrnn_widgets.engine import io as engine_io
from psychrnn_widgets.errors import WeightFileError

__all__ = ["TRANSFER_NAME_KEY", "WRITER_KEY", "read_weight_file", "write_weight_file"]

logger = logging.getLogger(__name__)

# Written next to the weights so this package restores the transfer function; PsychRNN
# ignores keys it does not know.
TRANSFER_NAME_KEY = "transfer_function_name"
# Marks files written here, in which a missing dale_ratio means None rather than an old format.
WRITER_KEY = "saved_by"
_KNOWN_TRANSFER_NAMES = {"relu", "tanh", "sigmoid", "softplus", "identity", "linear"}


def read_weight_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the entries of a PsychRNN or compat ``.npz`` weight file, through the engine's safe reader.

    Numeric arrays come back as arrays, ``dale_ratio`` as a float or None, and a pickled
    ``transfer_function`` as its name (``"relu"``...). Nothing is unpickled.

    Raises
    ------
    WeightFileError
        If the file cannot be read or contains a pickled object other than None, a number or a
        known transfer function.
    """
    entries = engine_io.read_weight_file(path)
    for key, value in list(entries.items()):
        if hasattr(value, "transfer_function"):  # the engine's reference to a named function
            entries[key] = value.transfer_function
        elif isinstance(value, np.ndarray) and value.dtype.kind == "U":
            entries[key] = str(value)
    ratio = entries.get("dale_ratio")
    if isinstance(ratio, np.ndarray):
        entries["dale_ratio"] = float(ratio)
    logger.debug("Read %d entries from %s", len(entries), path)
    return entries


def write_weight_file(path: str | os.PathLike[str], weights: Mapping[str, Any]) -> None:
    """Write ``weights`` with ``np.savez`` (``.npz`` is appended to a path without it), pickling nothing.

    ``dale_ratio=None`` is left out: PsychRNN reads a file without the key as "no Dale's law"
    (1.0.0 warns that the file looks old). A known ``transfer_function`` (relu, tanh, sigmoid,
    softplus, linear) is written as its name under ``transfer_function_name``; another callable
    is not stored. A ``saved_by`` entry marks the file as written here.
    """
    arrays: dict[str, np.ndarray] = {}
    for key, value in weights.items():
        if key == "dale_ratio" and value is None:
            continue
        if key == "transfer_function":
            name = value if isinstance(value, str) else getattr(value, "__name__", None)
            if name in _KNOWN_TRANSFER_NAMES:
                arrays[TRANSFER_NAME_KEY] = np.array("linear" if name == "identity" else name)
            continue
        array = np.asarray(value)
        if array.dtype == object:
            raise WeightFileError(
                f"weight {key!r} is not numeric and cannot be saved without pickling"
            )
        arrays[key] = array
    arrays[WRITER_KEY] = np.array("psychrnn_widgets")
    np.savez(path, **arrays)
