"""Adapter that turns a NeuroGym environment into a :class:`Task` with whole, padded trials.

NeuroGym's own supervised ``Dataset`` cuts a stream of concatenated trials into fixed-length
windows, so a batch row can start mid-trial and carries no loss mask, trial boundaries or trial
variables. The adapter draws whole trials instead, pads them to a common length, masks the padding
out of the loss and keeps each trial's periods and variables.

NeuroGym is an optional extra: ``pip install 'psychrnn_widgets[neurogym]'``.
"""

from __future__ import annotations

import logging
import math
import numbers
from typing import Any, ClassVar

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.base import Task
from psychrnn_widgets.tasks.batch import TrialBatch
from psychrnn_widgets.tasks.metrics import check_outputs, period_mean
from psychrnn_widgets.tasks.params import Param, format_value

__all__ = ["NeuroGymTask", "from_neurogym"]

logger = logging.getLogger(__name__)

# Trials drawn to choose the default padded length T.
LENGTH_PROBE_TRIALS = 500


def _channel_names(space: Any, prefix: str) -> list[str]:
    """Return one label per channel from a NeuroGym space's ``name`` dict, or ``prefix_k``."""
    size = int(space.n) if hasattr(space, "n") else int(np.prod(space.shape))
    labels = [f"{prefix}_{k}" for k in range(size)]
    names = getattr(space, "name", None) or {}
    for label, index in names.items():
        indices = [index] if isinstance(index, numbers.Integral) else list(index)
        for position, channel in enumerate(indices):
            if 0 <= int(channel) < size:
                labels[int(channel)] = label if len(indices) == 1 else f"{label}_{position}"
    return labels


class NeuroGymTask(Task):
    """Base of the classes :func:`from_neurogym` builds; one subclass per environment.

    Each batch draws ``N_batch`` whole trials from the environment, seeded from the batch's
    generator, and pads them with zeros to ``N_steps``. Inputs are the environment's observations.
    Targets are the one-hot ground-truth actions. The mask is 1 on every step of the real trial
    (fixation steps, where the ground truth is the fixation action, and the decision steps), or
    only inside ``mask_periods`` when that is set, and 0 on the padding.

    Periods: the environment's periods as step indices, plus ``padding``. Conditions: every numeric
    scalar of the environment's trial dict, ``choice`` (the ground truth, where the env has one),
    ``trial_steps`` and ``truncated``.

    Accuracy: fraction of trials whose largest mean output over the decision period is on the
    ground-truth action of that period.

    Notes
    -----
    The environment object is shared by every copy of the task (``replace`` included), so two
    threads must not generate batches from the same task at once. The class is built at run time,
    so the task cannot be pickled. A trial longer than ``T`` is cut at ``T`` and flagged in
    ``truncated``.
    """

    env: ClassVar[Any] = None
    env_id: ClassVar[str] = ""
    mask_periods: ClassVar[tuple[str, ...] | None] = None
    decision_period: ClassVar[str] = "decision"

    @property
    def input_names(self) -> list[str]:
        """Labels from the environment's observation space."""
        return _channel_names(self.env.unwrapped.observation_space, "input")

    @property
    def output_names(self) -> list[str]:
        """Labels from the environment's action space."""
        return _channel_names(self.env.unwrapped.action_space, "action")

    def _check_values(self, values: dict[str, Any]) -> None:
        super()._check_values(values)
        env_dt = float(self.env.unwrapped.dt)
        if not math.isclose(values["dt"], env_dt):
            raise InvalidParameterError(
                "dt",
                f"dt must equal the NeuroGym env's dt; pass dt to from_neurogym to change it "
                f"(got dt={format_value(values['dt'], 'ms')}, env dt={format_value(env_dt, 'ms')})",
                values["dt"],
            )

    def _generate(self, rng: np.random.Generator) -> TrialBatch:
        env = self.env.unwrapped
        env.seed(int(rng.integers(0, 2**31 - 1)))
        top = getattr(env, "_top", env)
        B, n_steps = self.N_batch, self.N_steps
        inputs = np.zeros((B, n_steps, self.N_in), dtype=np.float32)
        labels = np.zeros((B, n_steps), dtype=np.int64)
        real = np.zeros((B, n_steps), dtype=bool)
        lengths = np.zeros(B, dtype=np.int64)
        bounds: dict[str, np.ndarray] = {}
        records: list[dict[str, Any]] = []

        # NeuroGym builds one trial per call, so this loop is per trial; each trial's arrays are
        # copied whole.
        for trial in range(B):
            info = top.new_trial() or {}
            observations = np.asarray(env.ob, dtype=np.float32).reshape(len(env.ob), -1)
            length = observations.shape[0]
            kept = min(length, n_steps)
            inputs[trial, :kept] = observations[:kept]
            labels[trial, :kept] = np.asarray(env.gt)[:kept]
            real[trial, :kept] = True
            lengths[trial] = length
            for name, start in env.start_ind.items():
                bounds.setdefault(name, np.zeros((B, 2), dtype=np.int64))
                bounds[name][trial] = (
                    min(start, n_steps),
                    min(max(env.end_ind[name], start), n_steps),
                )
            records.append(info)
        if np.any(lengths > n_steps):
            logger.debug(
                "%d of %d NeuroGym trials were longer than T and were cut",
                int((lengths > n_steps).sum()),
                B,
            )

        targets = (labels[:, :, None] == np.arange(self.N_out)[None, None, :]) & real[:, :, None]
        if self.mask_periods is None:
            masked = real
        else:
            steps = np.arange(n_steps)[None, :]
            masked = np.zeros_like(real)
            for name in self.mask_periods:
                if name in bounds:
                    masked |= (steps >= bounds[name][:, :1]) & (steps < bounds[name][:, 1:])
        bounds["padding"] = np.stack([np.minimum(lengths, n_steps), np.full(B, n_steps)], axis=1)

        conditions = self._conditions(records)
        conditions["trial_steps"] = lengths
        conditions["truncated"] = lengths > n_steps
        return TrialBatch(
            inputs=inputs,
            targets=targets.astype(np.float32),
            mask=np.repeat(masked[:, :, None], self.N_out, axis=2).astype(np.float32),
            conditions=conditions,
            periods=bounds,
            dt=self.dt,
        )

    @staticmethod
    def _conditions(records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        """Stack the trial-dict entries that are numeric scalars in every trial."""
        conditions: dict[str, np.ndarray] = {}
        keys = set(records[0]) if records else set()
        for key in sorted(keys):
            values = [record.get(key) for record in records]
            if all(
                isinstance(value, (numbers.Number, np.bool_)) and np.ndim(value) == 0
                for value in values
            ):
                conditions[key] = np.asarray(values)
        if "ground_truth" in conditions:
            conditions["choice"] = conditions["ground_truth"]
        return conditions

    def _decision_steps(self, batch: TrialBatch) -> str:
        if self.decision_period in batch.periods:
            return self.decision_period
        raise InvalidParameterError(
            "decision_period",
            f"decision_period {self.decision_period!r} is not a period of {self.env_id}; "
            f"periods are {sorted(batch.periods)}",
            self.decision_period,
        )

    def accuracy(self, outputs: np.ndarray, batch: TrialBatch) -> float:
        """Return the fraction of trials whose largest mean decision-period output is the target action."""
        outputs = check_outputs(outputs, batch)
        period = self._decision_steps(batch)
        chosen = np.argmax(np.nan_to_num(period_mean(outputs, batch, period), nan=-np.inf), axis=1)
        target = np.argmax(
            np.nan_to_num(period_mean(batch.targets, batch, period), nan=-np.inf), axis=1
        )
        scored = np.diff(batch.periods[period], axis=1)[:, 0] > 0
        if not scored.any():
            return 0.0
        return float(np.mean(chosen[scored] == target[scored]))


def from_neurogym(
    env_or_id: Any,
    N_batch: int = 50,
    *,
    dt: float | None = None,
    tau: float | None = None,
    T: float | None = None,
    mask_periods: tuple[str, ...] | None = None,
    decision_period: str = "decision",
    **env_kwargs: Any,
) -> NeuroGymTask:
    """Wrap a NeuroGym environment as a :class:`Task` of whole trials padded to a common length.

    Parameters
    ----------
    env_or_id : str or neurogym.TrialEnv
        An environment id such as ``"PerceptualDecisionMaking-v0"`` or an environment object.
    N_batch : int
        Trials per batch. Default 50.
    dt : float, optional
        Time step in ms, passed to ``neurogym.make`` with an id. Default: the env's own.
    tau : float, optional
        Network time constant in ms. Default ``10 * dt``, so that ``alpha = 0.1``.
    T : float, optional
        Padded trial length in ms. Default: the longest of 500 trials drawn with seed 0.
    mask_periods : tuple of str, optional
        Only these periods count in the loss. Default: every step of the real trial.
    decision_period : str
        Period that :meth:`NeuroGymTask.accuracy` scores. Default ``"decision"``.
    **env_kwargs
        Passed to ``neurogym.make`` with an id (``timing``, ``sigma``...).

    Returns
    -------
    NeuroGymTask

    Raises
    ------
    ImportError
        If neurogym is not installed.
    InvalidParameterError
        If the environment has no discrete action space or a parameter is invalid.
    """
    try:
        import neurogym
    except ImportError as error:
        raise ImportError(
            "from_neurogym needs the optional neurogym package: pip install 'psychrnn_widgets[neurogym]'"
        ) from error

    if isinstance(env_or_id, str):
        if dt is not None:
            env_kwargs["dt"] = dt
        env = neurogym.make(env_or_id, **env_kwargs)
        env_id = env_or_id
    else:
        if env_kwargs:
            raise InvalidParameterError(
                "env_kwargs",
                f"environment options {sorted(env_kwargs)} need an env id, not an env object",
            )
        env = env_or_id
        env_id = type(env.unwrapped).__name__
    unwrapped = env.unwrapped
    if not hasattr(unwrapped.action_space, "n"):
        raise InvalidParameterError(
            "env_or_id",
            f"from_neurogym needs an env with a discrete action space (got {unwrapped.action_space} for {env_id})",
            env_id,
        )
    env_dt = float(unwrapped.dt)
    if dt is not None and not math.isclose(dt, env_dt):
        raise InvalidParameterError(
            "dt",
            f"dt must equal the env's dt (got dt={format_value(dt, 'ms')}, env dt={format_value(env_dt, 'ms')})",
            dt,
        )
    if T is None:
        T = env_dt * _longest_trial_steps(env)

    cls = type(
        f"NeuroGym_{env_id.replace('-', '_')}",
        (NeuroGymTask,),
        {
            "__module__": __name__,
            "name": f"neurogym:{env_id}",
            "title": f"NeuroGym {env_id}",
            "description": (unwrapped.__doc__ or "").strip().split("\n\n")[0]
            or f"NeuroGym environment {env_id}.",
            "env": env,
            "env_id": env_id,
            "mask_periods": tuple(mask_periods) if mask_periods is not None else None,
            "decision_period": decision_period,
            "params": (
                Param(
                    "dt",
                    "float",
                    env_dt,
                    "Simulation time step (the env's).",
                    unit="ms",
                    minimum=0.0,
                    min_inclusive=False,
                ),
                Param(
                    "tau",
                    "float",
                    10.0 * env_dt,
                    "Time constant of the network units.",
                    unit="ms",
                    minimum=0.0,
                    min_inclusive=False,
                ),
                Param(
                    "T",
                    "float",
                    float(T),
                    "Padded trial length.",
                    unit="ms",
                    minimum=0.0,
                    min_inclusive=False,
                ),
                Param(
                    "N_batch", "int", 50, "Number of trials per batch.", minimum=1, maximum=100_000
                ),
            ),
        },
    )
    values: dict[str, Any] = {"N_batch": N_batch}
    if tau is not None:
        values["tau"] = tau
    return cls(**values)


def _longest_trial_steps(env: Any) -> int:
    """Return the longest trial, in steps, among trials drawn with seed 0; the env is reseeded after."""
    unwrapped = env.unwrapped
    top = getattr(unwrapped, "_top", unwrapped)
    unwrapped.seed(0)
    longest = 1
    for _ in range(LENGTH_PROBE_TRIALS):
        top.new_trial()
        longest = max(longest, len(unwrapped.ob))
    unwrapped.seed(None)
    return longest
