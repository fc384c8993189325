"""Live view: turns buffered training events into chart data, on the updater's schedule."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from psychrnn_widgets.widgets._guard import StatusLine
from psychrnn_widgets.widgets.charts import AccuracyChart, LossChart, PsychometricChart, WeightHeatmap
from psychrnn_widgets.widgets.controls import TrainingControls
from psychrnn_widgets.widgets.curriculum_editor import CurriculumEditor
from psychrnn_widgets.widgets.traces import TraceChart
from psychrnn_widgets.widgets.updater import EventBuffer

__all__ = ["LiveView"]

logger = logging.getLogger(__name__)

# More points than this are thinned out before they are sent to the browser.
_MAX_CHART_POINTS = 2000
_ENDED = ("stopped", "finished", "failed")


def recurrent_matrix(weights: dict[str, np.ndarray], N_in: int) -> tuple[str, np.ndarray] | None:
    """Return a title and the (to unit, from unit) recurrent weights of a network.

    A rate RNN has ``W_rec``. The LSTM and GRU keep PsychRNN's layout, one
    ``(N_in + N_rec, N_rec)`` matrix per gate applied to ``[input, state]``, so their candidate
    matrix (``W_c``, ``W_h``) gives its last ``N_rec`` rows, transposed.
    """
    if "W_rec" in weights:
        return "W_rec (effective)", weights["W_rec"]
    for name in ("W_c", "W_h"):
        if name in weights:
            return f"{name}, recurrent part", weights[name][N_in:, :].T
    return None


class LiveView:
    """Chart data collected from training events and drawn by :meth:`refresh`.

    :meth:`on_event` runs in the training thread and only appends to a buffer. :meth:`refresh`
    runs in the updater thread: it reads the buffer, extends the curves, sets the progress and
    the button states, and every ``trace_interval`` seconds runs the network on the held-out
    batch for the traces, the weight heatmap and the psychometric curve.
    """

    def __init__(self, controls: TrainingControls, curriculum: CurriculumEditor,
                 status: StatusLine, trace_interval: float = 2.0) -> None:
        self.controls = controls
        self.curriculum = curriculum
        self.status = status
        self.loss_chart = LossChart()
        self.accuracy_chart = AccuracyChart()
        self.traces = TraceChart(3, "Held-out trial", "prw-trace-chart")
        self.weights = WeightHeatmap("W_rec (effective)")
        self.psychometric = PsychometricChart()
        self.trace_interval = trace_interval
        self.buffer = EventBuffer()
        self.network: Any = None
        self.trainer: Any = None
        self.heldout: Any = None
        self.heldout_task: Any = None
        self.trials: list[int] = []
        self.loss: list[float] = []
        self.accuracy: list[float] = []
        self.stage_changes: list[tuple[int, int, int]] = []
        self.offset = 0
        self.target_trials = 0
        self.trials_per_s = 0.0
        self.seen_trials = 0
        self.trace_refreshes = 0
        self._progress_dirty = True
        self._last_trace = -math.inf
        self._traces_dirty = True
        self._curves_dirty = False

    def on_event(self, event: Any) -> None:
        """Store ``event``; called from the training thread, so it touches no widget."""
        self.buffer.append(event)

    def clear(self) -> None:
        """Forget the curves (after Reset or Load); call with the updater's lock held."""
        self.buffer.drain()
        self.trials, self.loss, self.accuracy, self.stage_changes = [], [], [], []
        self.offset = 0
        self.target_trials = 0
        self.trials_per_s = 0.0
        self.seen_trials = 0
        self._curves_dirty = True
        self._traces_dirty = True
        self._progress_dirty = True

    def mark_traces_dirty(self) -> None:
        """Redraw traces and weights on the next refresh (new network or held-out batch)."""
        self._traces_dirty = True

    @property
    def total_trials(self) -> int:
        """Trials seen by this network across trainers."""
        return self.trials[-1] if self.trials else self.offset

    def refresh(self) -> bool:
        """Apply buffered events and redraw what changed; return whether anything did."""
        changed = self._apply_events(self.buffer.drain())
        if self._progress_dirty:
            self._progress_dirty = False
            self.controls.show_progress(self.seen_trials, self.target_trials, self.trials_per_s)
            changed = True
        if self._curves_dirty:
            self._draw_curves()
            changed = True
        trainer = self.trainer
        state = trainer.state if trainer is not None else "idle"
        if self.controls.state != state:
            self.controls.state = state
            changed = True
        if trainer is not None and trainer.curriculum is not None:
            changed = self._show_stage(trainer.curriculum) or changed
        now = time.monotonic()
        training = state == "running"
        if self._traces_dirty or (training and now - self._last_trace >= self.trace_interval):
            self._draw_network()
            self._last_trace = now
            changed = True
        return changed

    def _apply_events(self, events: list[Any]) -> bool:
        if not events:
            return False
        for event in events:
            trials = event.trials + self.offset
            if event.kind == "progress" and event.loss is not None:
                self.trials.append(trials)
                self.loss.append(float(event.loss))
                self.accuracy.append(math.nan if event.accuracy is None else float(event.accuracy))
                self._curves_dirty = True
            elif event.kind == "stage_changed" and event.stage is not None:
                self.stage_changes.append((event.update, trials, int(event.stage)))
                self._curves_dirty = True
            elif event.kind == "error":
                self.status.error(f"A training callback failed: {event.message}")
            elif event.kind == "failed":
                self.status.error(f"Training failed: {event.message}")
            elif event.kind in ("stopped", "finished"):
                text = event.message or f"training {event.kind}"
                self.status.show(f"{text[0].upper()}{text[1:]}.")
            elif event.kind in ("started", "resumed"):
                self.status.show("Training…", "busy")
            elif event.kind == "paused":
                self.status.show(f"Paused after {event.update} updates.")
            if event.kind in _ENDED:
                # The last progress event may predate the end; draw the final weights too.
                self._traces_dirty = True
            if event.trials_per_s:
                self.trials_per_s = float(event.trials_per_s)
        self.seen_trials = events[-1].trials + self.offset
        self._progress_dirty = True
        return True

    def _draw_curves(self) -> None:
        self._curves_dirty = False
        trials = np.asarray(self.trials, float)
        loss = np.asarray(self.loss, float)
        accuracy = np.asarray(self.accuracy, float)
        if len(trials) > _MAX_CHART_POINTS:
            keep = np.unique(np.linspace(0, len(trials) - 1, _MAX_CHART_POINTS).astype(int))
            evaluated = np.flatnonzero(np.isfinite(accuracy))
            trials_a, accuracy_a = trials[evaluated], accuracy[evaluated]
            if len(trials_a) > _MAX_CHART_POINTS:
                pick = np.linspace(0, len(trials_a) - 1, _MAX_CHART_POINTS).astype(int)
                trials_a, accuracy_a = trials_a[pick], accuracy_a[pick]
            trials, loss = trials[keep], loss[keep]
        else:
            trials_a, accuracy_a = trials, accuracy
        self.loss_chart.update(trials, loss, self.stage_changes)
        self.accuracy_chart.update(trials_a, accuracy_a, self.stage_changes)

    def _show_stage(self, curriculum: Any) -> bool:
        stage = int(curriculum.stage)
        values = list(curriculum.metric_values)
        metric = values[-1][2] if values and values[-1][1] == stage else math.nan
        if stage == self.curriculum.current_stage and (
            metric == self.curriculum.metric or (math.isnan(metric) and math.isnan(self.curriculum.metric))
        ):
            return False
        with self.curriculum.hold_trait_notifications():
            self.curriculum.current_stage = stage
            self.curriculum.metric = metric
        return True

    def _draw_network(self) -> None:
        self._traces_dirty = False
        network, batch, task = self.network, self.heldout, self.heldout_task
        if network is None or batch is None:
            return
        if batch.inputs.shape[-1] != network.config.N_in:
            # The task changed size and the old network waits for Reset; nothing fits to draw.
            return
        outputs, _ = network.run(batch.inputs, seed=0)
        self.traces.update(batch, outputs)
        recurrent = recurrent_matrix(network.effective_weights(), network.config.N_in)
        if recurrent is not None:
            self.weights.update(recurrent[1], recurrent[0])
        curve = task.psychometric(outputs, batch) if task is not None else None
        self.psychometric.available = curve is not None
        if curve is not None:
            self.psychometric.update(curve.variable, curve.levels, curve.choice_fraction)
        self.trace_refreshes += 1

    def offset_target(self, trainer: Any, updates: int, trials_per_update: int) -> None:
        """Set the progress target of a run of ``updates`` updates that starts now."""
        self.target_trials = self.offset + int(trainer.trials) + updates * trials_per_update
