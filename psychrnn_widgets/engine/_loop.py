"""One training run of a :class:`~psychrnn_widgets.engine.Trainer`: calls, checks and events."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from psychrnn_widgets.engine._batches import METRIC_STREAM, BatchSource, batch_rng

__all__ = ["TrainingLoop"]

logger = logging.getLogger(__name__)


class TrainingLoop:
    """Runs compiled calls until a stop rule, :meth:`Trainer.stop` or a failure.

    It waits on the trainer's condition while paused, so pause, resume, step and stop act
    between two compiled calls.
    """

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        self.config = trainer.config
        self.compiled = trainer._compiled
        self.batches = BatchSource(
            trainer.seed, trainer.network.dtype.as_numpy_dtype, self.config.updates_per_call
        )
        self.start_updates = trainer.updates
        self.start_trials = trainer.trials
        self.active_time = 0.0

    def run(self) -> None:
        trainer = self.trainer
        try:
            trainer._emit("started", accuracy=None, message=self._start_message())
            outcome, message = self._train()
        except Exception as error:  # noqa: BLE001 - reported as a failed event, then re-raised
            logger.exception("training failed at update %d", trainer.updates)
            trainer.exception = error
            outcome, message = "failed", f"training failed: {type(error).__name__}: {error}"
        finally:
            self.batches.close()
        trainer._set_state(outcome)
        trainer._emit(outcome, accuracy=None, message=message)

    def _start_message(self) -> str:
        limit = self.trainer._run_max_updates
        return "training started" + ("" if limit is None else f" for {limit} updates")

    def _train(self) -> tuple[str, str]:
        trainer = self.trainer
        config = self.config
        per_call = config.updates_per_call
        while True:
            budget = self._wait_if_paused()
            if budget is None:
                return "stopped", "training stopped"
            limit = self._remaining_updates()
            if limit == 0:
                return "finished", self._limit_message()

            count = min(per_call, limit, budget) if budget > 0 else min(per_call, limit)
            stage = trainer.stage if trainer.stage is not None else -1
            task = trainer.task
            started = time.perf_counter()
            batches = self.batches.get(stage, task, trainer.updates, count)
            self.batches.prefetch(stage, task, trainer.updates + count, min(per_call, max(limit - count, 1)))
            losses, outputs, finite_weights = self.compiled.train(
                batches.inputs, batches.targets, batches.mask, trainer.updates, count
            )
            self.active_time += time.perf_counter() - started
            if budget > 0:
                self._use_steps(count)

            failure = self._record(losses, batches.trials, finite_weights)
            if failure is not None:
                return "failed", failure

            accuracy = self._measure(outputs, batches.last, count)
            trainer._emit("progress", accuracy=accuracy)
            cutoff = config.performance_cutoff
            if cutoff is not None and accuracy is not None and accuracy >= cutoff:
                return "finished", f"accuracy {accuracy:.3f} reached performance_cutoff {cutoff:g}"
            if self._check_curriculum(count):
                return "finished", "the curriculum is finished"

    def _wait_if_paused(self) -> int | None:
        """Block while paused; return the step budget (0: unlimited) or None to stop."""
        trainer = self.trainer
        control = trainer._control
        with control:
            must_wait = trainer._pause_requested and trainer._steps_left == 0
            newly_paused = must_wait and trainer._state != "paused" and not trainer._stop_requested
            if newly_paused:
                trainer._state = "paused"
        if newly_paused:
            trainer._emit("paused", accuracy=None, message="training paused")
        with control:
            while trainer._pause_requested and trainer._steps_left == 0 and not trainer._stop_requested:
                control.wait()
            if trainer._stop_requested:
                return None
            resumed = trainer._state == "paused" and not trainer._pause_requested
            if resumed:
                trainer._state = "running"
            budget = trainer._steps_left if trainer._pause_requested else 0
        if resumed:
            trainer._emit("resumed", accuracy=None, message="training resumed")
        return budget

    def _use_steps(self, count: int) -> None:
        trainer = self.trainer
        with trainer._control:
            trainer._steps_left = max(trainer._steps_left - count, 0)

    def _remaining_updates(self) -> int:
        """Updates left before a stop rule; a large number when none applies."""
        trainer = self.trainer
        remaining = 1 << 62
        done = trainer.updates - self.start_updates
        if trainer._run_max_updates is not None:
            remaining = min(remaining, trainer._run_max_updates - done)
        if trainer._run_max_trials is not None:
            trials_left = trainer._run_max_trials - (trainer.trials - self.start_trials)
            per_batch = max(int(getattr(trainer.task, "N_batch", 1)), 1)
            remaining = min(remaining, max(math.ceil(trials_left / per_batch), 0))
        return max(remaining, 0)

    def _limit_message(self) -> str:
        trainer = self.trainer
        done = trainer.updates - self.start_updates
        if trainer._run_max_updates is not None and done >= trainer._run_max_updates:
            return f"reached max_updates ({trainer._run_max_updates} updates)"
        return f"reached max_trials ({trainer._run_max_trials} trials)"

    def _record(self, losses: np.ndarray, trials: list[int], finite_weights: bool) -> str | None:
        """Append the call's updates to the history; on a non-finite loss, roll back."""
        trainer = self.trainer
        history = trainer.history
        first = trainer.updates
        bad = np.flatnonzero(~np.isfinite(losses))
        good_count = int(bad[0]) if bad.size else len(losses)
        for i in range(good_count):
            trainer.updates += 1
            trainer.trials += trials[i]
            history.append(trainer.updates, trainer.trials, losses[i], None, trainer.stage)
        if good_count:
            trainer._last_loss = float(losses[good_count - 1])
        if bad.size == 0 and finite_weights:
            if self.active_time > 0:
                trainer._speed = (trainer.trials - self.start_trials) / self.active_time
            return None

        # The recovery point contains the weights on which the latest finite loss was measured.
        # Those are from before that update's step, so that update is undone as well.
        self.compiled.restore_last_finite()
        restored = max(trainer.updates - 1, self.start_updates)
        history.truncate(restored)
        trainer.updates = restored
        trainer.trials = history.trials[-1] if len(history) and history.update[-1] == restored else self.start_trials
        if bad.size:
            cause = f"the loss became {losses[bad[0]]} at update {first + int(bad[0]) + 1}"
        else:
            cause = f"the weights became non-finite at update {first + len(losses)}"
        trainer._last_loss = history.loss[-1] if len(history) else None
        return f"{cause}; restored the last weights with a finite loss (update {restored})"

    def _measure(self, outputs: Any, batch: Any, count: int) -> float | None:
        """Return the accuracy of the call's last update when an ``eval_every`` boundary passed."""
        trainer = self.trainer
        every = self.config.eval_every
        if trainer.updates // every == (trainer.updates - count) // every:
            return None
        accuracy = float(trainer.task.accuracy(np.asarray(outputs), batch))
        trainer.history.set_accuracy(trainer.updates, accuracy)
        return accuracy

    def _check_curriculum(self, count: int) -> bool:
        """Measure the stage metric every ``metric_epoch`` updates; return True when finished."""
        trainer = self.trainer
        curriculum = trainer.curriculum
        if curriculum is None or curriculum.finished:
            return False
        epoch = curriculum.metric_epoch
        if trainer.updates // epoch == (trainer.updates - count) // epoch:
            return False

        stage = curriculum.current
        batch = stage.task.generate_batch(batch_rng(trainer.seed, trainer.updates, METRIC_STREAM))
        inputs = np.asarray(batch.inputs, dtype=trainer.network.dtype.as_numpy_dtype)
        outputs = self.compiled.forward(inputs, (trainer._noise_key(METRIC_STREAM), trainer.updates))

        try:
            value = stage.evaluate(outputs, batch)
        except Exception as error:  # noqa: BLE001 - a user metric must not end training
            logger.exception("curriculum metric of stage %d raised", curriculum.stage)
            trainer._emit(
                "error",
                accuracy=None,
                message=f"curriculum metric raised {type(error).__name__}: {error}",
            )
            return False

        if not curriculum.record(trainer.updates, value):
            return False
        if curriculum.finished:
            return True

        trainer.history.stage_changes.append((trainer.updates, trainer.trials, curriculum.stage))
        trainer._emit(
            "stage_changed",
            accuracy=value,
            message=(
                f"stage {curriculum.stage} ({curriculum.current.name}) after metric "
                f"{value:.3f} >= {stage.threshold:g} in stage {curriculum.stage - 1}"
            ),
        )
        return False
