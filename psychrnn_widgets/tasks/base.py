"""The ``Task`` base class: declared, validated parameters and batch generation."""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.batch import Psychometric, TrialBatch
from psychrnn_widgets.tasks.metrics import check_outputs, masked_choice
from psychrnn_widgets.tasks.params import Param, format_value, unknown_name_error

__all__ = ["BASE_PARAMS", "Task", "as_generator"]

BASE_PARAMS: tuple[Param, ...] = (
    Param(
        "dt", "float", 10.0, "Simulation time step.", unit="ms", minimum=0.0, min_inclusive=False
    ),
    Param(
        "tau",
        "float",
        100.0,
        "Time constant of the network units.",
        unit="ms",
        minimum=0.0,
        min_inclusive=False,
    ),
    Param("T", "float", 2000.0, "Length of a trial.", unit="ms", minimum=0.0, min_inclusive=False),
    Param("N_batch", "int", 50, "Number of trials per batch.", minimum=1, maximum=100_000),
)

# T / dt is compared with the nearest whole number with this relative slack, so that
# T=0.3 ms, dt=0.1 ms counts as 3 steps despite binary rounding.
_STEP_TOLERANCE = 1e-9


def as_generator(
    rng: None | int | np.random.Generator | np.random.SeedSequence,
) -> np.random.Generator:
    """Return ``rng`` as a NumPy Generator: None gives fresh entropy, an int or SeedSequence seeds one."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise InvalidParameterError(
        "rng",
        f"rng must be None, a non-negative int seed or a numpy.random.Generator (got rng={rng!r})",
        rng,
    )


def _merge_params(inherited: tuple[Param, ...], declared: tuple[Param, ...]) -> tuple[Param, ...]:
    """Replace inherited declarations that share a name with ``declared``, then append the rest."""
    declared_by_name = {param.name: param for param in declared}
    if len(declared_by_name) != len(declared):
        raise TypeError("a task declares the same parameter name twice")
    merged = [declared_by_name.pop(param.name, param) for param in inherited]
    merged.extend(param for param in declared if param.name in declared_by_name)
    return tuple(merged)


class Task(abc.ABC):
    """A cognitive task: validated parameters (units in ms) and a vectorised batch generator.

    Subclasses set ``name``, ``title``, ``description``, ``params`` (their own declarations; the
    base ``dt``, ``tau``, ``T`` and ``N_batch`` are merged in, and a declaration with the same name
    replaces the base one), ``input_names`` and ``output_names``, and implement
    :meth:`_generate`. Cross-field rules go in :meth:`_check_values`.

    Parameters
    ----------
    **values
        Parameter values by name; missing ones take their declared default.

    Raises
    ------
    InvalidParameterError
        For an unknown name (with a "did you mean" hint) or a value that breaks a rule.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = BASE_PARAMS
    input_channels: ClassVar[tuple[str, ...]] = ()
    output_channels: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inherited = super(cls, cls).params
        cls.params = _merge_params(inherited, tuple(cls.__dict__.get("params", ())))

    def __init__(self, **values: Any) -> None:
        specs = self.param_specs()
        for name in values:
            if name not in specs:
                raise unknown_name_error(name, specs, f"{type(self).__name__} parameter")
        candidate = {
            name: spec.validate(values.get(name, spec.default)) for name, spec in specs.items()
        }
        self._check_values(candidate)
        object.__setattr__(self, "_values", candidate)

    @classmethod
    def param_specs(cls) -> dict[str, Param]:
        """Return the merged parameter declarations by name, in form order."""
        return {param.name: param for param in cls.params}

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails, so parameters read like attributes.
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        specs = self.param_specs()
        if name in specs:
            candidate = dict(self._values)
            candidate[name] = specs[name].validate(value)
            self._check_values(candidate)
            object.__setattr__(self, "_values", candidate)
        elif name.startswith("_") or hasattr(type(self), name):
            # Private state, or a read-only property that raises AttributeError itself.
            object.__setattr__(self, name, value)
        else:
            raise unknown_name_error(name, specs, f"{type(self).__name__} parameter")

    def _check_values(self, values: dict[str, Any]) -> None:
        """Check rules that involve several parameters; raise InvalidParameterError on the first broken one.

        ``values`` is the complete candidate set; ``self`` still contains the old values.
        """
        dt, tau, T = values["dt"], values["tau"], values["T"]
        if not tau > dt:
            raise InvalidParameterError(
                "tau",
                f"tau must be larger than dt (got tau={format_value(tau, 'ms')}, dt={format_value(dt, 'ms')})",
                tau,
            )
        steps = T / dt
        if abs(steps - round(steps)) > _STEP_TOLERANCE * max(1.0, steps) or round(steps) < 1:
            raise InvalidParameterError(
                "T",
                f"T must be a multiple of dt (got T={format_value(T, 'ms')}, dt={format_value(dt, 'ms')})",
                T,
            )

    def values(self) -> dict[str, Any]:
        """Return a copy of the parameter values by name."""
        return dict(self._values)

    def replace(self, **overrides: Any) -> Task:
        """Return a new task of the same class with ``overrides`` applied and validated."""
        return type(self)(**{**self._values, **overrides})

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self._values.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values == other._values

    __hash__ = None  # type: ignore[assignment]

    @property
    def N_steps(self) -> int:
        """Number of time steps per trial, ``ceil(T / dt)``."""
        return max(1, math.ceil(self.T / self.dt - _STEP_TOLERANCE * self.T / self.dt))

    @property
    def alpha(self) -> float:
        """Integration factor ``dt / tau``."""
        return self.dt / self.tau

    @property
    def input_names(self) -> list[str]:
        """Labels of the input channels, in channel order."""
        return list(self.input_channels)

    @property
    def output_names(self) -> list[str]:
        """Labels of the output channels, in channel order."""
        return list(self.output_channels)

    @property
    def N_in(self) -> int:
        """Number of input channels."""
        return len(self.input_names)

    @property
    def N_out(self) -> int:
        """Number of output channels."""
        return len(self.output_names)

    def generate_batch(self, rng: None | int | np.random.Generator = None) -> TrialBatch:
        """Generate ``N_batch`` trials at once.

        Parameters
        ----------
        rng : None, int or numpy.random.Generator
            Source of randomness. The same int seed gives the same batch; a Generator is advanced.

        Returns
        -------
        TrialBatch
        """
        return self._generate(as_generator(rng))

    @abc.abstractmethod
    def _generate(self, rng: np.random.Generator) -> TrialBatch:
        """Build one batch with ``rng``; see :class:`~psychrnn_widgets.tasks.builder.TrialBuilder`."""

    def accuracy(self, outputs: np.ndarray, batch: TrialBatch) -> float:
        """Return the fraction of trials whose chosen output channel matches the target's.

        The chosen channel is the argmax over channels of the time-average of ``outputs * mask``,
        as in PsychRNN.

        Parameters
        ----------
        outputs : ndarray, shape (N_batch, N_steps, N_out)
        batch : TrialBatch
        """
        outputs = check_outputs(outputs, batch)
        return float(
            np.mean(masked_choice(outputs, batch.mask) == masked_choice(batch.targets, batch.mask))
        )

    def psychometric(self, outputs: np.ndarray, batch: TrialBatch) -> Psychometric | None:
        """Return the choice fraction per level of the task's graded variable, or None if it has none."""
        return None
