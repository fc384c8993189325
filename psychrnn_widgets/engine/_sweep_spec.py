"""Sweep specifications: the base run, grid names resolved to a section, and run ids.

Everything here is plain Python and JSON, so specs pickle cheaply to worker processes and
Dask workers, and nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from psychrnn_widgets.engine.config import NetworkConfig
from psychrnn_widgets.engine.training import TrainingConfig
from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import TASKS

__all__ = [
    "SweepBase",
    "RunSpec",
    "SECTIONS",
    "XLA_MIN_UPDATES",
    "check_seeds",
    "expand_runs",
    "use_xla",
]

SECTIONS = ("task", "network", "training")

# The seeds argument sets both the network's and the trainer's seed; a seed set elsewhere would
# silently make two runs identical.
_SEED_NAMES = ("network.seed", "training.seed")


# Shortest run that jit_compile="auto" compiles with XLA. Measured break-evens lie between 120
# and 530 updates (benchmarks/xla_break_even.py, table in docs/sweeps.md), so 250 is the middle.
# NOTE: the rule ignores network and batch size, although large networks gain from XLA sooner.
XLA_MIN_UPDATES = 250


def use_xla(
    jit_compile: bool | str,
    max_updates: int | None,
    max_trials: int | None,
    N_batch: int,
) -> bool:
    """Return whether a run compiles its update with XLA.

    True and False are returned as they are. "auto" gives True when the run's stop rule allows
    at least :data:`XLA_MIN_UPDATES` updates: ``max_updates``, or ``max_trials`` / ``N_batch``
    rounded up (the smaller of the two when both are set). A run without either has no known
    length and gets XLA.
    """
    if jit_compile != "auto":
        return bool(jit_compile)
    lengths = []
    if max_updates is not None:
        lengths.append(int(max_updates))
    if max_trials is not None:
        lengths.append(-(-int(max_trials) // int(N_batch)))
    return not lengths or min(lengths) >= XLA_MIN_UPDATES


def _close_match_hint(name: str, known: Iterable[str]) -> str:
    known = sorted(set(known))
    # difflib misses short prefixes ("dale" for "dale_ratio"), which are common typos here.
    close = difflib.get_close_matches(name, known, n=1)
    if not close:
        close = [candidate for candidate in known if name and candidate.startswith(name)]
    return f"; did you mean {' or '.join(repr(k) for k in close[:3])}?" if close else ""


def _task_class(name: Any) -> type:
    if not isinstance(name, str) or name not in TASKS:
        hint = _close_match_hint(str(name), TASKS) or f"; registered tasks: {', '.join(TASKS)}"
        raise InvalidParameterError("task", f"unknown task {name!r}{hint}", name)
    return TASKS[name]


def _task_param_names(task_name: str) -> set[str]:
    return {param.name for param in _task_class(task_name).params}


_NETWORK_NAMES = {f.name for f in dataclasses.fields(NetworkConfig)}
_TRAINING_NAMES = {f.name for f in dataclasses.fields(TrainingConfig)}


def json_safe(value: Any) -> Any:
    """Return ``value`` with NumPy scalars and arrays turned into Python numbers and lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def _check_json(section: str, values: Mapping[str, Any]) -> dict[str, Any]:
    values = json_safe(dict(values))
    try:
        json.dumps(values, allow_nan=True)
    except TypeError as error:
        raise InvalidParameterError(
            section,
            f"{section} values must be numbers, strings, booleans, None or lists of them, "
            f"so that every run can be saved and sent to a worker ({error})",
            values,
        ) from None
    return values


@dataclass(frozen=True)
class SweepBase:
    """The run that every point of a sweep starts from.

    Parameters
    ----------
    task : str, default "perceptual_discrimination"
        Registered task name (see :func:`psychrnn_widgets.tasks.list_tasks`).
    task_values : dict
        Task parameter values, e.g. ``{"T": 1000, "N_batch": 32}`` (times in ms).
    network : dict
        :class:`NetworkConfig` fields on top of ``NetworkConfig.for_task(task)``, which takes
        N_in, N_out, dt and tau from the task and uses N_rec=50.
    training : dict
        :class:`TrainingConfig` fields. It must hold a stop rule, ``max_updates`` or
        ``max_trials``; ``performance_cutoff`` may end a run earlier.
    jit_compile : bool or "auto", default "auto"
        Passed to the :class:`Trainer`. XLA makes each update 1.4 to 1.8 times cheaper, but
        costs about 1 CPU s per run to compile or load. "auto" uses XLA only for runs whose
        stop rule allows at least :data:`XLA_MIN_UPDATES` (250) updates: ``max_updates``, or
        ``max_trials`` / ``N_batch``. Shorter runs use a plain graph, which costs less CPU time.
    eval_trials : int or None
        Trials in the held-out batch that measures each run's final accuracy; None uses the
        task's ``N_batch``.

    Notes
    -----
    Values must be JSON data (numbers, strings, booleans, None, lists; NumPy arrays are turned
    into lists), because every run's settings are saved next to its weights. A callable loss,
    a Keras optimiser instance or a custom regulariser therefore cannot be swept.
    """

    task: str = "perceptual_discrimination"
    task_values: Mapping[str, Any] = field(default_factory=dict)
    network: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    jit_compile: bool | str = "auto"
    eval_trials: int | None = None

    def __post_init__(self) -> None:
        _task_class(self.task)
        for section in ("task_values", "network", "training"):
            values = getattr(self, section)
            if not isinstance(values, Mapping):
                raise InvalidParameterError(
                    section,
                    f"{section} must be a dict of setting names to values "
                    f"(got {type(values).__name__})",
                    values,
                )
            object.__setattr__(self, section, _check_json(section, values))
        jit = self.jit_compile
        if not isinstance(jit, bool) and not (isinstance(jit, str) and jit == "auto"):
            raise InvalidParameterError(
                "jit_compile",
                f"jit_compile must be True, False or 'auto' (got jit_compile={jit!r})",
                jit,
            )
        trials = self.eval_trials
        if trials is not None and (
            not isinstance(trials, numbers.Integral) or isinstance(trials, bool) or trials < 1
        ):
            raise InvalidParameterError(
                "eval_trials",
                "eval_trials must be an integer of at least 1 or None "
                f"(got eval_trials={trials!r})",
                trials,
            )
        _check_section_names("task", self.task_values, _task_param_names(self.task))
        _check_section_names("network", self.network, _NETWORK_NAMES)
        _check_section_names("training", self.training, _TRAINING_NAMES)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SweepBase:
        """Build a base from a dict with the field names; unknown keys raise with a hint."""
        known = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in known:
                hint = _close_match_hint(key, known)
                raise InvalidParameterError(key, f"unknown sweep base key {key!r}{hint}", key)
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        """Return the base as JSON data."""
        return {f.name: json_safe(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _check_section_names(section: str, values: Mapping[str, Any], known: set[str]) -> None:
    for name in values:
        if f"{section}.{name}" in _SEED_NAMES:
            raise InvalidParameterError(
                name,
                f"{section}.seed is set per run from the seeds argument of sweep(); "
                f"remove it from the {section} settings",
                values[name],
            )
        if name not in known:
            hint = _close_match_hint(name, known)
            raise InvalidParameterError(
                name, f"unknown {section} setting {name!r}{hint}", name
            )


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: the grid point, the seed and the complete resolved settings."""

    run_id: str
    seed: int
    settings: Mapping[str, Any]
    task: str
    task_values: Mapping[str, Any]
    network: Mapping[str, Any]
    training: Mapping[str, Any]
    jit_compile: bool | str
    eval_trials: int | None

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as JSON data (what the worker receives and the metrics file keeps)."""
        return {f.name: json_safe(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _resolve_name(name: Any, task_names: set[str]) -> tuple[str, str]:
    """Map a grid name to ``(section, field)``; ``("task", "")`` means the task itself."""
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(
            "grid", f"grid keys must be setting names such as 'dale_ratio' (got {name!r})", name
        )
    if name == "task":
        return "task", ""
    if "." in name:
        section, _, key = name.partition(".")
        known = {"task": task_names, "network": _NETWORK_NAMES, "training": _TRAINING_NAMES}
        if section not in known:
            hint = _close_match_hint(section, SECTIONS)
            raise InvalidParameterError(
                name,
                f"unknown section {section!r} in grid key {name!r}{hint}; "
                "use task.NAME, network.NAME or training.NAME",
                name,
            )
        if name in _SEED_NAMES:
            raise InvalidParameterError(
                name, f"grid key {name!r} is not allowed: the seeds argument sets every seed", name
            )
        if key not in known[section]:
            hint = _close_match_hint(key, known[section])
            raise InvalidParameterError(
                name, f"unknown {section} setting {key!r} in grid key {name!r}{hint}", name
            )
        return section, key
    if name == "seed":
        raise InvalidParameterError(
            "seed", "grid key 'seed' is not allowed: pass the seeds to sweep(seeds=...)", name
        )

    # dt and tau exist on both the task and the network. NetworkConfig.for_task copies them from
    # the task, so setting them on the task changes both, which is what a sweep over dt means.
    if name in task_names:
        return "task", name
    if name in _NETWORK_NAMES and name in _TRAINING_NAMES:
        raise InvalidParameterError(
            name,
            f"grid key {name!r} names both a network and a training setting; "
            f"write 'network.{name}' or 'training.{name}'",
            name,
        )
    if name in _NETWORK_NAMES:
        return "network", name
    if name in _TRAINING_NAMES:
        return "training", name
    hint = _close_match_hint(name, task_names | _NETWORK_NAMES | _TRAINING_NAMES | {"task"})
    raise InvalidParameterError(
        name, f"unknown sweep setting {name!r}{hint}", name
    )


def check_seeds(seeds: Any) -> list[int]:
    """Return ``seeds`` as a list of distinct non-negative ints, or raise."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seeds = [seeds]
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise InvalidParameterError(
            "seeds", f"seeds must be a list of non-negative integers (got {seeds!r})", seeds
        )
    checked: list[int] = []
    for seed in seeds:
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
            raise InvalidParameterError(
                "seeds", f"every seed must be a non-negative integer (got {seed!r})", seed
            )
        if int(seed) in checked:
            raise InvalidParameterError(
                "seeds", f"seeds must be distinct (got {int(seed)} twice)", seed
            )
        checked.append(int(seed))
    if not checked:
        raise InvalidParameterError(
            "seeds", "seeds must contain at least one seed (got none)", seeds
        )
    return checked


def _grid_values(name: str, values: Any) -> list[Any]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise InvalidParameterError(
            name,
            f"grid[{name!r}] must be a list of values to try (got {values!r}); "
            "put a fixed value in the base instead",
            values,
        )
    values = [json_safe(value) for value in values]
    if not values:
        raise InvalidParameterError(
            name, f"grid[{name!r}] must contain at least one value (got none)", values
        )
    return values


def _slug(settings: Mapping[str, Any], seed: int) -> str:
    parts = [f"{name.rpartition('.')[2]}={value}" for name, value in settings.items()]
    parts.append(f"seed={seed}")
    text = re.sub(r"[^A-Za-z0-9=._-]+", "-", "_".join(parts))
    return text[:80]


def _run_id(spec: Mapping[str, Any], settings: Mapping[str, Any], seed: int) -> str:
    # The digest covers every resolved setting, so editing the base gives new run ids and a
    # resumed sweep never reuses a run trained with other settings.
    digest = hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]
    return f"{_slug(settings, seed)}-{digest}"


def expand_runs(base: SweepBase, grid: Mapping[str, Sequence[Any]], seeds: Any) -> list[RunSpec]:
    """Return one :class:`RunSpec` per grid point and seed, grid order first, seeds innermost.

    Raises
    ------
    InvalidParameterError
        For an unknown or ambiguous grid name (with a "did you mean" hint), an empty value
        list, bad seeds, or a missing stop rule. Values are checked only when each run builds
        its task, network and trainer, so a bad value fails that run alone.
    """
    if not isinstance(grid, Mapping):
        raise InvalidParameterError(
            "grid", f"grid must be a dict of setting name to list of values (got {grid!r})", grid
        )
    seeds = check_seeds(seeds)
    values = {name: _grid_values(str(name), grid[name]) for name in grid}
    task_names_by_task = {
        name: _task_param_names(name) for name in values.get("task", [base.task])
    }
    all_task_names = set().union(*task_names_by_task.values())
    sections = {name: _resolve_name(name, all_task_names) for name in values}

    swept_training = {key for section, key in sections.values() if section == "training"}
    training_keys = set(base.training) | swept_training
    if not training_keys & {"max_updates", "max_trials"}:
        raise InvalidParameterError(
            "training",
            "a sweep needs a stop rule: set training max_updates or max_trials in the base "
            "(performance_cutoff alone may never be reached)",
            dict(base.training),
        )

    runs = []
    names = list(values)
    for point in itertools.product(*(values[name] for name in names)):
        settings = dict(zip(names, point))
        task = settings.get("task", base.task)
        resolved = {
            "task_values": dict(base.task_values),
            "network": dict(base.network),
            "training": dict(base.training),
        }
        for name, value in settings.items():
            section, key = sections[name]
            if section == "task" and key:
                if key not in task_names_by_task[task]:
                    hint = _close_match_hint(key, task_names_by_task[task])
                    raise InvalidParameterError(
                        name, f"task {task!r} has no parameter {key!r}{hint}", name
                    )
                resolved["task_values"][key] = value
            elif section in ("network", "training"):
                resolved[section][key] = value
        for seed in seeds:
            content = {
                "task": task,
                **resolved,
                "seed": seed,
                "jit_compile": base.jit_compile,
                "eval_trials": base.eval_trials,
            }
            runs.append(
                RunSpec(
                    run_id=_run_id(content, settings, seed),
                    seed=seed,
                    settings=settings,
                    task=task,
                    task_values=resolved["task_values"],
                    network=resolved["network"],
                    training=resolved["training"],
                    jit_compile=base.jit_compile,
                    eval_trials=base.eval_trials,
                )
            )
    return runs

