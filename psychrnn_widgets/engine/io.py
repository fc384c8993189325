"""Weight files: save a network with its config, seed and history; load ours and PsychRNN's.

Files are ``.npz`` archives that contain only numeric and string arrays, so they load with
``allow_pickle=False``. Metadata is stored as JSON text in 0-d string arrays under keys that
start with ``__``. The weight keys follow PsychRNN (``W_in``, ``W_rec``, ``W_out``, ``b_rec``,
``b_out``, ``init_state`` and the connectivity and Dale matrices), so PsychRNN can read a
rate network saved here. This package stores the raw variables, which PsychRNN turns into the
same effective weights.
"""

from __future__ import annotations

import io as _io
import json
import logging
import os
import platform
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from psychrnn_widgets.engine import _psychrnn_files
from psychrnn_widgets.engine._safe_pickle import decode_object_npy
from psychrnn_widgets.engine.config import NetworkConfig, variable_shapes
from psychrnn_widgets.engine.transfer import TRANSFER_FUNCTIONS
from psychrnn_widgets.errors import InvalidParameterError, WeightFileError

__all__ = ["FORMAT", "load_network", "read_weight_arrays", "read_weight_file", "save_network"]

logger = logging.getLogger(__name__)

FORMAT = "psychrnn_widgets-weights-1"
# Limits on one weight file entry once decompressed. Weights barely compress, so a large entry
# that expands far beyond its stored size is a compression bomb, not a network.
MAX_ENTRY_BYTES = 1024 * 2**20
LARGE_ENTRY_BYTES = 16 * 2**20
MAX_COMPRESSION_RATIO = 20
_HISTORY_FIELDS = ("update", "trials", "loss", "accuracy", "stage")


def _text(value: Any) -> np.ndarray:
    return np.array(json.dumps(value))


def _versions() -> dict[str, str]:
    import tensorflow as tf

    from psychrnn_widgets import __version__

    return {
        "psychrnn_widgets": __version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _history_arrays(trainer: Any) -> dict[str, np.ndarray]:
    history = getattr(trainer, "history", trainer)
    arrays = {}
    for name in _HISTORY_FIELDS:
        values = getattr(history, name, None)
        if values is None:
            continue
        values = [np.nan if value is None else value for value in values]
        arrays[f"__history_{name}__"] = np.asarray(values, dtype=np.float64)
    return arrays


def _extra_arrays(extra: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    arrays = {}
    for key, value in (extra or {}).items():
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise InvalidParameterError(
                "extra",
                f"extra[{key!r}] must be a numeric or string array, not objects (got {type(value).__name__})",
                value,
            )
        arrays[f"extra/{key}"] = array
    return arrays


def save_network(
    path: str | os.PathLike[str],
    network: Any,
    trainer: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``network`` to an ``.npz`` file atomically and return the path written.

    Parameters
    ----------
    path
        Target file; ``.npz`` is appended when the name has another suffix.
    network
        A rate RNN, LSTM or GRU.
    trainer
        Optional ``Trainer`` (or any object with a ``history`` or with ``update``, ``trials``,
        ``loss`` and ``accuracy`` lists); its history is saved too.
    extra
        Optional dict of numeric or string arrays, saved under ``extra/<key>``.

    Notes
    -----
    The file is written to a temporary file in the same folder, flushed to disk and then
    renamed over ``path``, so a crash never leaves a half-written file under that name.
    """
    target = Path(path)
    if target.suffix != ".npz":
        target = target.with_name(target.name + ".npz")
    config = network.config.to_dict()
    config["initial_weights"] = None  # the weights themselves are in the file
    arrays: dict[str, np.ndarray] = dict(network.get_weights())
    if network.config.model == "rate":
        arrays.update(_psychrnn_files.constraint_arrays(network.config))
    arrays["__format__"] = np.array(FORMAT)
    arrays["__config__"] = _text(config)
    arrays["__seed__"] = np.array(network.seed, dtype=np.int64)
    arrays["__versions__"] = _text(_versions())
    # The trainer draws its own seed when its config has none; save the one it used.
    trainer_seed = getattr(trainer, "seed", None)
    if trainer_seed is None:
        trainer_seed = getattr(getattr(trainer, "config", None), "seed", None)
    if trainer_seed is not None:
        arrays["__trainer_seed__"] = np.array(int(trainer_seed), dtype=np.int64)
    if trainer is not None:
        arrays.update(_history_arrays(trainer))
    arrays.update(_extra_arrays(extra))

    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as stream:
            np.savez(stream, **arrays)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("Saved network to %s (%d arrays)", target, len(arrays))
    return target


def read_weight_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read every entry of a weight file without unpickling anything.

    Numeric and string entries become arrays. Object entries (PsychRNN's ``dale_ratio=None``
    and ``transfer_function``) are decoded through an allow-list, see ``_safe_pickle``.

    Raises
    ------
    WeightFileError
        If the path is missing, a folder, not a zip archive, truncated or corrupt, or contains an
        object entry outside the allow-list.
    """
    file = Path(path)
    if file.is_dir():
        raise WeightFileError(f"weight file {str(file)!r} is a folder, not a file")
    if not file.exists():
        raise WeightFileError(f"weight file {str(file)!r} not found")
    entries: dict[str, Any] = {}
    try:
        with zipfile.ZipFile(file) as archive:
            for info in archive.infolist():
                member = info.filename
                if not member.endswith(".npy"):
                    continue
                key = member[: -len(".npy")]
                # Check the declared sizes first, so a compression bomb is rejected unread.
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > MAX_ENTRY_BYTES or (
                    info.file_size > LARGE_ENTRY_BYTES and ratio > MAX_COMPRESSION_RATIO
                ):
                    raise WeightFileError(
                        f"weight file {str(file)!r} entry {key!r} expands to {info.file_size} "
                        f"bytes from {info.compress_size}; the limits are {MAX_ENTRY_BYTES} "
                        f"bytes, and a compression ratio of {MAX_COMPRESSION_RATIO} above "
                        f"{LARGE_ENTRY_BYTES} bytes"
                    )
                data = archive.read(member)
                entries[key] = _read_npy(data, key)
    except WeightFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise WeightFileError(
            f"weight file {str(file)!r} is unreadable or truncated ({error})"
        ) from None
    if not entries:
        raise WeightFileError(f"weight file {str(file)!r} contains no arrays")
    return entries


def _read_npy(data: bytes, key: str) -> Any:
    stream = _io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        _shape, _fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        _shape, _fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if dtype.hasobject:
        return decode_object_npy(data, key)
    return np.lib.format.read_array(_io.BytesIO(data), allow_pickle=False)


def read_weight_arrays(
    path: str | os.PathLike[str], config: NetworkConfig
) -> dict[str, np.ndarray]:
    """Return the variables of ``config``'s model found in a weight file, with shapes checked."""
    entries = read_weight_file(path)
    if config.model == "lstm" and "W_f" in entries:
        entries = _psychrnn_files.lstm_arrays(entries)
    return _checked_variables(entries, variable_shapes(config), path, required=False)


def _checked_variables(
    entries: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]], path: Any, required: bool
) -> dict[str, np.ndarray]:
    arrays = {}
    for name, shape in shapes.items():
        if name not in entries:
            if required:
                raise WeightFileError(f"weight file {str(path)!r} is missing the entry {name!r}")
            continue
        value = entries[name]
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            raise WeightFileError(f"weight file entry {name!r} must be a numeric array")
        if value.shape != shape and not (shape[0] == 1 and value.shape == shape[1:]):
            raise WeightFileError(
                f"weight file entry {name!r} has shape {value.shape}, expected {shape}"
            )
        if not np.all(np.isfinite(value)):
            raise WeightFileError(f"weight file entry {name!r} contains NaN or infinite values")
        arrays[name] = value.reshape(shape)
    return arrays


def load_network(
    path: str | os.PathLike[str],
    *,
    transfer_function: str | Callable[[Any], Any] | None = None,
    **config_overrides: Any,
) -> Any:
    """Load a network saved by :func:`save_network` or by PsychRNN (1.0.0 or its main branch).

    Parameters
    ----------
    path
        The ``.npz`` file.
    transfer_function
        Needed when the file was saved with a custom callable, which cannot be stored; it
        also overrides a stored name.
    **config_overrides
        Other ``NetworkConfig`` fields. PsychRNN files store neither ``dt`` nor ``tau``, so
        they default to 10 and 100 ms unless given here.

    Raises
    ------
    WeightFileError
        If the file cannot be read, is truncated, has wrong shapes or contains rejected objects.
    """
    from psychrnn_widgets.engine.network import build_network

    entries = read_weight_file(path)
    if transfer_function is not None:
        config_overrides["transfer_function"] = transfer_function
    try:
        if "__config__" in entries:
            try:
                values = json.loads(str(entries["__config__"]))
            except ValueError as error:
                raise WeightFileError(
                    f"weight file {str(path)!r} has unreadable network settings ({error})"
                ) from None
            if not isinstance(values, dict):
                raise WeightFileError(
                    f"weight file {str(path)!r} has network settings that are not a JSON object"
                )
            stored = values.get("transfer_function")
            if stored not in TRANSFER_FUNCTIONS and "transfer_function" not in config_overrides:
                raise WeightFileError(
                    f"weight file {str(path)!r} was saved with the custom transfer function {stored!r}, "
                    "which cannot be stored; pass it as load_network(path, transfer_function=...)"
                )
            values.update(config_overrides)
            values.setdefault("seed", None)
            if values["seed"] is None and "__seed__" in entries:
                values["seed"] = int(entries["__seed__"])
            config = NetworkConfig.from_dict(values)
        else:
            config = _psychrnn_files.config_from_entries(entries, config_overrides)
            if config.model == "lstm":
                entries = _psychrnn_files.lstm_arrays(entries)
    except InvalidParameterError as error:
        raise WeightFileError(f"weight file {str(path)!r} has invalid settings: {error}") from None
    weights = _checked_variables(entries, variable_shapes(config), path, required=True)
    network = build_network(config)
    network.set_weights(weights)
    logger.info("Loaded %s from %s", type(network).__name__, path)
    return network
