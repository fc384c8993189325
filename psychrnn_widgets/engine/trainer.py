"""The Trainer: runs compiled updates in a blocking call or a background thread, with events."""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from psychrnn_widgets.engine.curriculum import Curriculum
from psychrnn_widgets.engine.events import TrainingEvent, TrainingHistory
from psychrnn_widgets.engine.training import TrainingConfig
from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError, TrainingError

__all__ = ["Trainer", "TRAINER_STATES"]

logger = logging.getLogger(__name__)

TRAINER_STATES = ("idle", "running", "paused", "stopped", "finished", "failed")


class Trainer:
    """Train a network on a task or a curriculum, and report what happens through events.

    Parameters
    ----------
    network
        A network built by :func:`psychrnn_widgets.engine.build_network`.
    task_or_curriculum
        A task (with ``generate_batch(rng)`` and ``accuracy(outputs, batch)``) or a
        :class:`~psychrnn_widgets.engine.Curriculum`.
    config : TrainingConfig or None
        Training settings; None uses the defaults. It may be replaced between runs.
    jit_compile : bool, default True
        Compile the update with XLA. In A/B runs on a busy 2-core CPU, XLA made updates 2 to
        3 times faster for the rate RNN, 1.3 to 2 times for the LSTM and 0.9 to 2.5 times for
        the GRU (``docs/benchmarks.md``). It adds a few seconds of compilation before the
        first update and about 260 MB to the peak memory.
    batch_shards : int or "auto", default "auto"
        Split every batch into this many parts of trials that train side by side on separate
        cores (at most one part per trial). The update equals the unsplit one up to float
        rounding, so the same seed gives the same weights only with the same number of parts.
        ``"auto"`` splits every batch into one part per usable core, at most 8 parts and at
        least 4 trials per part. It uses 1 part without XLA, on a GPU, or when TensorFlow's
        inter-op threads are set to 1. On 2 cores (N_batch 50, N_rec 50, 200 steps), 2 parts
        made updates 1.4 times faster for the rate RNN and 1.6 times for the LSTM and the GRU
        (``docs/benchmarks.md``).

    Notes
    -----
    ``max_updates`` and ``max_trials`` count from the start of each run, so a second
    ``run(max_updates=100)`` trains 100 more updates from the current weights and optimiser
    state. Batches and recurrent noise are keyed by update index and ``seed``, so pausing,
    stepping or splitting training into runs gives the same weights as one uninterrupted run.
    Once a curriculum is finished, later runs train on its last stage.
    """

    def __init__(
        self,
        network: Any,
        task_or_curriculum: Any,
        config: TrainingConfig | None = None,
        *,
        jit_compile: bool = True,
        batch_shards: int | str = "auto",
    ) -> None:
        self.network = network
        if isinstance(task_or_curriculum, Curriculum):
            self.curriculum: Curriculum | None = task_or_curriculum
            self._task = None
        else:
            self.curriculum = None
            self._task = task_or_curriculum
        tasks = self.curriculum.stages if self.curriculum else [task_or_curriculum]
        for task in tasks:
            _check_task(network, getattr(task, "task", task))
        self.config = config if config is not None else TrainingConfig()
        if not isinstance(self.config, TrainingConfig):
            raise InvalidParameterError(
                "config", f"config must be a TrainingConfig (got {type(config).__name__})", config
            )
        self.jit_compile = bool(jit_compile)
        self.batch_shards = _check_batch_shards(batch_shards)
        seed = self.config.seed
        self.seed = int(np.random.SeedSequence().generate_state(1)[0]) if seed is None else int(seed)
        self.history = TrainingHistory()
        self.updates = 0
        self.trials = 0
        self.exception: BaseException | None = None

        self._callbacks: list[Callable[[TrainingEvent], Any]] = []
        self._callbacks_lock = threading.Lock()
        self._control = threading.Condition()
        self._state = "idle"
        self._pause_requested = False
        self._stop_requested = False
        self._steps_left = 0
        self._thread: threading.Thread | None = None
        self._optimizer: Any = None
        self._default_optimizer = False
        self._compiled: Any = None
        self._compiled_key: tuple | None = None
        self._last_loss: float | None = None
        self._speed: float | None = None

    # Public state and controls

    @property
    def state(self) -> str:
        """One of ``"idle"``, ``"running"``, ``"paused"``, ``"stopped"``, ``"finished"``, ``"failed"``."""
        with self._control:
            return self._state

    @property
    def task(self) -> Any:
        """The task that supplies the training batches now."""
        return self.curriculum.task if self.curriculum else self._task

    @property
    def stage(self) -> int | None:
        """Current curriculum stage, None without a curriculum."""
        return None if self.curriculum is None else self.curriculum.stage

    @property
    def optimizer(self) -> Any:
        """The optimiser in use (None before the first run)."""
        return self._optimizer

    @property
    def active_batch_shards(self) -> int | None:
        """Number of parts each batch is split into (None before the first run)."""
        return None if self._compiled is None else self._compiled.batch_shards

    @property
    def tracing_count(self) -> int:
        """How often the compiled update was traced (1 per trainer in steady training)."""
        return 0 if self._compiled is None else self._compiled.tracing_count

    def add_callback(self, callback: Callable[[TrainingEvent], Any]) -> None:
        """Call ``callback(event)`` from the training thread for every event."""
        if not callable(callback):
            raise InvalidParameterError(
                "callback", f"callback must be callable (got {callback!r})", callback
            )
        with self._callbacks_lock:
            self._callbacks.append(callback)

    def remove_callback(self, callback: Callable[[TrainingEvent], Any]) -> None:
        """Stop calling ``callback``; unknown callbacks are ignored."""
        with self._callbacks_lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def run(self, max_updates: int | None = None) -> TrainingHistory:
        """Train in the calling thread until a stop rule, :meth:`stop` or a failure.

        Parameters
        ----------
        max_updates : int or None
            Updates in this run; None uses ``config.max_updates``.

        Returns
        -------
        TrainingHistory
            The trainer's history (all runs).

        Raises
        ------
        TrainingError
            When training is already running.
        Exception
            Whatever the task or the network raised; a ``"failed"`` event reports it first.
            A non-finite loss does not raise: it ends the run in state ``"failed"``.
        """
        self._begin(max_updates, steps=None)
        self._loop()
        if self.exception is not None and self.state == "failed":
            raise self.exception
        return self.history

    def start(self, max_updates: int | None = None) -> None:
        """Train in a daemon thread and return at once."""
        self._begin(max_updates, steps=None)
        self._launch()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the training thread; return True when it has ended."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def pause(self) -> None:
        """Pause after the current compiled call (a few milliseconds at most for small nets)."""
        with self._control:
            if self._state in ("running", "paused"):
                self._pause_requested = True
                self._steps_left = 0
                self._control.notify_all()

    def resume(self) -> None:
        """Continue after :meth:`pause` or :meth:`step`."""
        with self._control:
            self._pause_requested = False
            self._steps_left = 0
            self._control.notify_all()

    def step(self, n: int = 1) -> None:
        """Do ``n`` more updates, then pause; starts a background run when none is active."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InvalidParameterError(
                "n", f"n must be an integer of at least 1 (got n={n!r} updates)", n
            )
        with self._control:
            if self._state in ("running", "paused"):
                if not self._pause_requested:
                    self._pause_requested = True
                    self._steps_left = 0
                self._steps_left += int(n)
                self._control.notify_all()
                return
        self._begin(None, steps=int(n))
        self._launch()

    def stop(self) -> None:
        """End the active run after the current compiled call; does nothing when idle."""
        with self._control:
            if self._state in ("running", "paused"):
                self._stop_requested = True
                self._control.notify_all()

    # Run set-up

    def _begin(self, max_updates: int | None, steps: int | None) -> None:
        if max_updates is not None:
            if isinstance(max_updates, bool) or not isinstance(max_updates, (int, np.integer)) or max_updates < 1:
                raise InvalidParameterError(
                    "max_updates",
                    f"max_updates must be an integer of at least 1 or None "
                    f"(got max_updates={max_updates!r} updates)",
                    max_updates,
                )
        with self._control:
            if self._state in ("running", "paused"):
                raise TrainingError("training is already running; call stop() and join() first")
            self._state = "running"
            self._stop_requested = False
            self._pause_requested = steps is not None
            self._steps_left = steps or 0
        try:
            self._prepare()
        except BaseException:
            with self._control:
                self._state = "idle"
            raise
        self.exception = None
        config = self.config
        self._run_max_updates = max_updates if max_updates is not None else config.max_updates
        self._run_max_trials = config.max_trials

    def _launch(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="psychrnn-widgets-trainer", daemon=True)
        self._thread.start()

    def _prepare(self) -> None:
        """Validate the config and (re)build the optimiser and the compiled update if needed."""
        from psychrnn_widgets.engine import _step
        from psychrnn_widgets.engine._objective import build_objective

        config = self.config
        config.validate()
        frozen = _frozen_masks(self.network, config.fixed_weights)
        optimizer = self._resolve_optimizer(config)
        batch_shards = self._resolve_batch_shards()
        key = (
            id(optimizer),
            config.clip,
            float(config.clip_norm),
            id(config.loss) if callable(config.loss) else config.loss,
            config.loss_normalization,
            tuple(float(getattr(config, name)) for name in _REGULARIZERS),
            id(config.custom_regularization),
            tuple(sorted((n, hashlib.sha1(m.tobytes()).hexdigest()) for n, m in frozen.items())),
            self.jit_compile,
            batch_shards,
        )
        if self._compiled is None or key != self._compiled_key:
            self._compiled = _step.CompiledUpdate(
                self.network,
                optimizer,
                build_objective(self.network, config),
                config.clip,
                config.clip_norm,
                frozen,
                noise_key=self._noise_key(0) if self.network.config.rec_noise > 0 else None,
                jit_compile=self.jit_compile,
                batch_shards=batch_shards,
            )
            self._compiled_key = key
        self._compiled.mark_current_finite()

    def _resolve_batch_shards(self) -> int:
        """Return the number of batch parts for the tasks and the machine (see ``batch_shards``)."""
        import tensorflow as tf

        from psychrnn_widgets.engine._runtime import auto_batch_shards

        tasks = [stage.task for stage in self.curriculum.stages] if self.curriculum else [self._task]
        sizes = [int(getattr(task, "N_batch", 0) or 0) for task in tasks]
        smallest = min((size for size in sizes if size > 0), default=1)
        if self.batch_shards != "auto":
            return max(1, min(self.batch_shards, smallest))
        if not self.network.split_batch_by_default or not self.jit_compile:
            return 1
        if tf.config.list_logical_devices("GPU"):
            return 1
        inter_op = tf.config.threading.get_inter_op_parallelism_threads()
        if inter_op == 0:
            inter_op = int(os.environ.get("TF_NUM_INTEROP_THREADS", "0") or 0)
        return auto_batch_shards(smallest, inter_op_threads=inter_op)

    def _resolve_optimizer(self, config: TrainingConfig) -> Any:
        if config.optimizer is not None:
            self._optimizer = config.optimizer
            self._default_optimizer = False
            return self._optimizer
        if self._optimizer is None or not self._default_optimizer:
            import keras

            # PsychRNN's Adam: beta_1 0.9, beta_2 0.999, epsilon 1e-8 (Keras defaults to 1e-7).
            self._optimizer = keras.optimizers.Adam(
                learning_rate=config.learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8
            )
            self._default_optimizer = True
        else:
            self._optimizer.learning_rate.assign(config.learning_rate)
        return self._optimizer

    def _noise_key(self, stream: int) -> int:
        return int(np.random.SeedSequence([self.seed, stream, 7]).generate_state(1)[0])

    # The training loop

    def _loop(self) -> None:
        from psychrnn_widgets.engine._loop import TrainingLoop

        TrainingLoop(self).run()

    def _set_state(self, state: str) -> None:
        with self._control:
            self._state = state

    def _emit(self, kind: str, **fields: Any) -> None:
        """Send an event to every callback; a callback that raises is logged and reported."""
        fields.setdefault("loss", self._last_loss)
        fields.setdefault("stage", self.stage)
        fields.setdefault("trials_per_s", self._speed)
        event = TrainingEvent(kind=kind, update=self.updates, trials=self.trials, **fields)
        with self._callbacks_lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(event)
            except Exception as error:  # noqa: BLE001 - any user error must not end training
                logger.exception("training callback %r raised on a %r event", callback, kind)
                if kind != "error":
                    name = getattr(callback, "__qualname__", repr(callback))
                    self._emit(
                        "error",
                        accuracy=None,
                        message=f"callback {name} raised {type(error).__name__}: {error}",
                    )


_REGULARIZERS = ("L1_in", "L1_rec", "L1_out", "L2_in", "L2_rec", "L2_out", "L2_firing_rate")


def _check_batch_shards(value: Any) -> int | str:
    if value == "auto":
        return "auto"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise InvalidParameterError(
        "batch_shards", f'batch_shards must be "auto" or an integer >= 1 (got {value!r})', value
    )


def _check_task(network: Any, task: Any) -> None:
    if not callable(getattr(task, "generate_batch", None)):
        raise InvalidParameterError(
            "task", f"task must have generate_batch(rng) (got {type(task).__name__})", task
        )
    config = network.config
    for size in ("N_in", "N_out"):
        expected, got = getattr(config, size), getattr(task, size, None)
        if got is not None and got != expected:
            raise InvalidParameterError(
                size,
                f"the task's {size} must equal the network's "
                f"(got task {size}={got}, network {size}={expected})",
                got,
            )
    task_dt = getattr(task, "dt", None)
    if task_dt is not None and not math.isclose(float(task_dt), float(config.dt)):
        raise InvalidParameterError(
            "dt",
            f"the task's dt must equal the network's (got task dt={task_dt:g} ms, "
            f"network dt={config.dt:g} ms)",
            task_dt,
        )


def _frozen_masks(network: Any, fixed_weights: dict[str, Any] | None) -> dict[str, np.ndarray]:
    """Check ``fixed_weights`` against the network; return boolean masks of trainable variables."""
    masks: dict[str, np.ndarray] = {}
    for name, value in (fixed_weights or {}).items():
        if name not in network.variables:
            raise InvalidParameterError(
                "fixed_weights",
                f"fixed_weights names an unknown variable {name!r}; "
                f"the network has {', '.join(network.variables)}",
                name,
            )
        variable = network.variables[name]
        array = np.asarray(value)
        shape = tuple(variable.shape)
        if array.shape != shape:
            raise ShapeMismatchError(
                "fixed_weights",
                f"fixed_weights[{name!r}] must have the shape of {name}, {shape} "
                f"(got {array.shape})",
                value,
            )
        if variable.trainable and array.any():
            masks[name] = array.astype(bool)
    return masks

