"""Training settings: optimiser, clipping, loss, regularisation, frozen weights and stop rules."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError

__all__ = ["TrainingConfig", "CLIP_MODES", "LOSS_NAMES", "LOSS_NORMALIZATIONS"]

CLIP_MODES = ("per_variable", "global")
LOSS_NAMES = ("mse", "bce")
LOSS_NORMALIZATIONS = ("all", "mask")
REGULARIZATION_FIELDS = (
    "L1_in",
    "L1_rec",
    "L1_out",
    "L2_in",
    "L2_rec",
    "L2_out",
    "L2_firing_rate",
)


@dataclass
class TrainingConfig:
    """Settings of a training run.

    Parameters
    ----------
    learning_rate : float, default 1e-3
        Learning rate of the default Adam optimiser (ignored when ``optimizer`` is given).
    optimizer : keras.optimizers.Optimizer or None
        Any Keras optimiser instance. None means Adam with beta_1 0.9, beta_2 0.999 and
        epsilon 1e-8, as PsychRNN uses.
    clip : {"per_variable", "global", None}, default "per_variable"
        Gradient clipping: each variable's gradient to ``clip_norm`` separately (PsychRNN), all
        gradients by their global norm, or no clipping.
    clip_norm : float, default 1.0
        Largest L2 norm a clipped gradient keeps.
    loss : {"mse", "bce"} or callable, default "mse"
        Masked mean squared error, masked binary cross-entropy, or a callable
        ``(outputs, targets, mask) -> scalar tensor``.
    loss_normalization : {"all", "mask"}, default "all"
        Divide the built-in losses by all ``N_batch * N_steps * N_out`` entries (PsychRNN) or by
        the number of unmasked entries.
    L1_in, L1_rec, L1_out, L2_in, L2_rec, L2_out, L2_firing_rate : float, default 0
        Regularisation weights, applied to the effective weights and to the firing rates.
    custom_regularization : callable or None
        Extra term added to the loss, ``fn(network, config) -> scalar tensor`` (as in
        PsychRNN), traced once into the compiled update.
    fixed_weights : dict of str to array, or None
        Per-entry freeze masks: variable name to an array of the variable's shape holding 0
        (trained) or 1 (frozen). Frozen entries stay bit-identical through training.
    max_updates, max_trials : int or None
        Stop a run after this many updates or trials (counted from the start of that run).
    performance_cutoff : float or None
        Stop when the accuracy measured every ``eval_every`` updates reaches this value, in [0, 1].
    eval_every : int, default 10
        Updates between accuracy measurements (on the outputs of the update itself).
    updates_per_call : int, default 1
        Updates done in one compiled call; more cuts Python overhead but makes pause, stop and
        NaN recovery act in coarser steps.
    seed : int or None
        Seed of the batches and of the recurrent noise. None draws one when the trainer is made.
    """

    learning_rate: float = 1e-3
    optimizer: Any = None
    clip: str | None = "per_variable"
    clip_norm: float = 1.0
    loss: str | Callable[..., Any] = "mse"
    loss_normalization: str = "all"
    L1_in: float = 0.0
    L1_rec: float = 0.0
    L1_out: float = 0.0
    L2_in: float = 0.0
    L2_rec: float = 0.0
    L2_out: float = 0.0
    L2_firing_rate: float = 0.0
    custom_regularization: Callable[..., Any] | None = None
    fixed_weights: dict[str, np.ndarray] | None = field(default=None, repr=False)
    max_updates: int | None = None
    max_trials: int | None = None
    performance_cutoff: float | None = None
    eval_every: int = 10
    updates_per_call: int = 1
    seed: int | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every field.

        Raises
        ------
        InvalidParameterError
            Naming the field, the rule and the value received.
        """
        _check_positive_float("learning_rate", self.learning_rate)
        _check_optimizer(self.optimizer)
        if self.clip is not None and self.clip not in CLIP_MODES:
            raise InvalidParameterError(
                "clip",
                f"clip must be one of 'per_variable', 'global' or None (got clip={self.clip!r})",
                self.clip,
            )
        _check_positive_float("clip_norm", self.clip_norm)
        if not callable(self.loss) and self.loss not in LOSS_NAMES:
            raise InvalidParameterError(
                "loss",
                f"loss must be 'mse', 'bce' or a callable (got loss={self.loss!r})",
                self.loss,
            )
        if self.loss_normalization not in LOSS_NORMALIZATIONS:
            raise InvalidParameterError(
                "loss_normalization",
                "loss_normalization must be 'all' or 'mask' "
                f"(got loss_normalization={self.loss_normalization!r})",
                self.loss_normalization,
            )
        for name in REGULARIZATION_FIELDS:
            _check_non_negative_float(name, getattr(self, name))
        if self.custom_regularization is not None and not callable(self.custom_regularization):
            raise InvalidParameterError(
                "custom_regularization",
                "custom_regularization must be a callable or None "
                f"(got custom_regularization={self.custom_regularization!r})",
                self.custom_regularization,
            )
        _check_fixed_weights(self.fixed_weights)
        _check_optional_count("max_updates", self.max_updates, "updates")
        _check_optional_count("max_trials", self.max_trials, "trials")
        if self.performance_cutoff is not None:
            value = self.performance_cutoff
            if not _is_real(value) or not 0.0 <= float(value) <= 1.0:
                raise InvalidParameterError(
                    "performance_cutoff",
                    "performance_cutoff must be a number in [0, 1] or None "
                    f"(got performance_cutoff={value!r})",
                    value,
                )
        _check_count("eval_every", self.eval_every, "updates")
        _check_count("updates_per_call", self.updates_per_call, "updates")
        if self.seed is not None and (not _is_integer(self.seed) or self.seed < 0):
            raise InvalidParameterError(
                "seed",
                f"seed must be a non-negative integer or None (got seed={self.seed!r})",
                self.seed,
            )

    def replace(self, **overrides: Any) -> TrainingConfig:
        """Return a validated copy with some fields changed; unknown names raise."""
        _check_names(overrides)
        return dataclasses.replace(self, **overrides)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainingConfig:
        """Build a config from a mapping of field names; unknown names raise with a hint."""
        _check_names(values)
        return cls(**dict(values))


_dataclass_init = TrainingConfig.__init__


@functools.wraps(_dataclass_init)
def _init_with_name_check(self: TrainingConfig, *args: Any, **kwargs: Any) -> None:
    # The generated __init__ raises a bare TypeError for a misspelt setting; name it instead.
    _check_names(kwargs)
    _dataclass_init(self, *args, **kwargs)


TrainingConfig.__init__ = _init_with_name_check  # type: ignore[method-assign]


def _check_names(values: Mapping[str, Any]) -> None:
    known = [f.name for f in dataclasses.fields(TrainingConfig)]
    for name in values:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidParameterError(name, f"unknown training setting {name!r}{hint}", name)


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_positive_float(name: str, value: Any) -> None:
    if not _is_real(value) or not math.isfinite(float(value)) or float(value) <= 0.0:
        raise InvalidParameterError(
            name, f"{name} must be a finite number larger than 0 (got {name}={value!r})", value
        )


def _check_non_negative_float(name: str, value: Any) -> None:
    if not _is_real(value) or not math.isfinite(float(value)) or float(value) < 0.0:
        raise InvalidParameterError(
            name, f"{name} must be a finite number of at least 0 (got {name}={value!r})", value
        )


def _check_count(name: str, value: Any, unit: str) -> None:
    if not _is_integer(value) or value < 1:
        raise InvalidParameterError(
            name, f"{name} must be an integer of at least 1 (got {name}={value!r} {unit})", value
        )


def _check_optional_count(name: str, value: Any, unit: str) -> None:
    if value is not None:
        _check_count(name, value, unit)


def _check_optimizer(optimizer: Any) -> None:
    if optimizer is None:
        return
    # Keras loads only when an optimiser is actually passed, so building a default config
    # stays cheap.
    import keras

    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise InvalidParameterError(
            "optimizer",
            "optimizer must be a keras.optimizers.Optimizer instance or None "
            f"(got optimizer={optimizer!r})",
            optimizer,
        )


def _check_fixed_weights(fixed_weights: Any) -> None:
    if fixed_weights is None:
        return
    if not isinstance(fixed_weights, Mapping):
        raise InvalidParameterError(
            "fixed_weights",
            "fixed_weights must be a dict of variable name to 0/1 array or None "
            f"(got fixed_weights={type(fixed_weights).__name__})",
            fixed_weights,
        )
    for name, mask in fixed_weights.items():
        if not isinstance(name, str):
            raise InvalidParameterError(
                "fixed_weights",
                f"fixed_weights keys must be variable names (got key {name!r})",
                name,
            )
        try:
            array = np.asarray(mask, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise InvalidParameterError(
                "fixed_weights",
                f"fixed_weights[{name!r}] must be a numeric 0/1 array (got {error})",
                mask,
            ) from None
        if array.ndim == 0:
            raise ShapeMismatchError(
                "fixed_weights",
                f"fixed_weights[{name!r}] must be an array of the variable's shape "
                f"(got a scalar {mask!r})",
                mask,
            )
        bad = array[(array != 0.0) & (array != 1.0)]
        if bad.size:
            raise InvalidParameterError(
                "fixed_weights",
                f"fixed_weights[{name!r}] must contain only 0 (trained) and 1 (frozen) "
                f"(got {float(bad.flat[0])!r})",
                mask,
            )
