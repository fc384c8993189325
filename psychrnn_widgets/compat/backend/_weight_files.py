"""Read and write PsychRNN ``.npz`` weight files without pickling.

PsychRNN stores ``dale_ratio=None`` and (on its main branch) the transfer function as 0-d object
arrays, i.e. pickles. Unpickling a file can run arbitrary code, so object entries are never
loaded here: their pickle opcodes are read with :mod:`pickletools`, which executes nothing, and
only ``None`` and references to known transfer functions are accepted.
"""

from __future__ import annotations

import logging
import os
import pickletools
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from psychrnn_widgets.errors import WeightFileError

__all__ = ["TRANSFER_NAME_KEY", "WRITER_KEY", "read_weight_file", "write_weight_file"]

logger = logging.getLogger(__name__)

# Written next to the weights so this package restores the transfer function; PsychRNN
# ignores keys it does not know.
TRANSFER_NAME_KEY = "transfer_function_name"
# Marks files written here, in which a missing dale_ratio means None rather than an old format.
WRITER_KEY = "saved_by"
_KNOWN_TRANSFER_NAMES = {"relu", "tanh", "sigmoid", "softplus", "identity", "linear"}
_NONE = object()


def _object_entry(archive: zipfile.ZipFile, member: str) -> Any:
    """Return None or a transfer-function name from a pickled 0-d entry, without unpickling it."""
    with archive.open(member) as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            np.lib.format.read_array_header_1_0(handle)
        else:
            np.lib.format.read_array_header_2_0(handle)
        payload = handle.read()
    try:
        operations = [(op.name, argument) for op, argument, _ in pickletools.genops(payload)]
    except ValueError as error:
        raise WeightFileError(f"{member} holds a damaged pickle: {error}") from None
    # numpy pickles the whole 0-d array; its single element is what follows the data list.
    starts = [index for index, (name, _) in enumerate(operations) if name == "EMPTY_LIST"]
    if len(starts) != 1:
        raise WeightFileError(f"{member} holds a pickled object this package does not read")
    element = [
        (name, argument)
        for name, argument in operations[starts[0] + 1 :]
        if name not in ("MEMOIZE", "BINPUT", "PUT")
    ]
    if element[:2] == [("NONE", None), ("APPEND", None)]:
        return _NONE
    referenced = None
    strings: list[str] = []
    for name, argument in element:
        if "UNICODE" in name or "STRING" in name:
            strings.append(str(argument))
        elif name == "STACK_GLOBAL" and strings:
            referenced = strings[-1]
            break
        elif name == "GLOBAL":
            referenced = str(argument).split(" ")[-1]
            break
    if referenced in _KNOWN_TRANSFER_NAMES:
        return "linear" if referenced == "identity" else referenced
    raise WeightFileError(
        f"{member} holds a pickled object ({referenced or 'not None'}) that is neither None nor a known "
        "transfer function; it was not loaded"
    )


def read_weight_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the entries of a PsychRNN or compat ``.npz`` weight file.

    Numeric arrays come back as arrays; ``dale_ratio`` as a float or None; a pickled
    ``transfer_function`` as its name (``"relu"``...). Nothing is unpickled.

    Raises
    ------
    WeightFileError
        If the file cannot be read or holds a pickled object other than None or a known
        transfer function.
    """
    path = os.fspath(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise WeightFileError(f"cannot read weight file {path}: {error}") from None
    entries: dict[str, Any] = {}
    with archive, np.load(path, allow_pickle=False) as data:
        for key in data.files:
            try:
                entries[key] = data[key]
            except ValueError:
                value = _object_entry(archive, key + ".npy")
                entries[key] = None if value is _NONE else value
    for key in (TRANSFER_NAME_KEY, WRITER_KEY):
        if key in entries:
            entries[key] = str(entries[key])
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
