"""Trial traces: inputs, targets, network outputs and the loss mask of a few trials."""

from __future__ import annotations

from typing import Any

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

from psychrnn_widgets.widgets.charts import make_figure

__all__ = ["TraceChart"]

_PERIOD_COLORS = ["#90cdf4", "#fbd38d", "#c6f6d5", "#fed7e2", "#e9d8fd", "#feebc8"]
_INPUT_COLORS = ["#718096", "#a0aec0", "#4a5568", "#cbd5e0"]
_OUTPUT_COLORS = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1"]


class TraceChart(widgets.HBox):
    """One small figure per trial: inputs (grey), targets (dashed), outputs (solid), mask.

    The mask is drawn as a dotted 0/1 line; named periods of the trial are shaded.

    Parameters
    ----------
    n_trials
        Number of trials shown, default 3.
    title
        Prefix of each figure title.
    css_class
        CSS class of the whole chart (``prw-trace-chart`` or ``prw-trial-preview``).
    """

    n_trials = traitlets.Int(3, help="Number of trials shown.")
    shown = traitlets.Int(0, help="Number of trials drawn by the last update.")
    revision = traitlets.Int(0, help="Count of updates, for tests and observers.")

    def __init__(self, n_trials: int = 3, title: str = "Trial", css_class: str = "prw-trace-chart",
                 width: str = "300px") -> None:
        super().__init__()
        self.n_trials = n_trials
        self.add_class(css_class)
        self.panels: list[dict[str, Any]] = []
        figures = []
        for k in range(n_trials):
            x_scale, y_scale = bqplot.LinearScale(), bqplot.LinearScale()
            scales = {"x": x_scale, "y": y_scale}
            empty = {"x": np.zeros(0), "y": np.zeros(0), "scales": scales}
            marks = {
                "periods": bqplot.Lines(**empty, fill="inside", fill_opacities=[0.3], stroke_width=0,
                                        colors=["white"], fill_colors=_PERIOD_COLORS),
                "inputs": bqplot.Lines(**empty, colors=_INPUT_COLORS),
                "mask": bqplot.Lines(**empty, colors=["#000"], line_style="dotted", opacities=[0.5]),
                "targets": bqplot.Lines(**empty, colors=_OUTPUT_COLORS, line_style="dashed"),
                "outputs": bqplot.Lines(**empty, colors=_OUTPUT_COLORS, stroke_width=2),
            }
            axes = [bqplot.Axis(scale=x_scale, label="time (ms)", num_ticks=4),
                    bqplot.Axis(scale=y_scale, side="left", num_ticks=4)]
            figure = make_figure(list(marks.values()), axes, f"{title} {k + 1}",
                                 f"{css_class}-figure", width, "220px")
            self.panels.append(marks)
            figures.append(figure)
        self.children = figures

    def update(self, batch: Any, outputs: Any = None, trials: Any = None) -> None:
        """Draw ``trials`` (default the first ``n_trials``) of a TrialBatch and its outputs.

        Parameters
        ----------
        batch
            A TrialBatch: ``inputs``, ``targets``, ``mask`` of shape (N_batch, N_steps, ...),
            ``periods`` name -> (N_batch, 2) step indices, and ``dt`` in ms.
        outputs
            Network outputs (N_batch, N_steps, N_out), or None to leave them out.
        trials
            Indices of the trials to draw.
        """
        if trials is None:
            trials = range(min(self.n_trials, batch.inputs.shape[0]))
        trials = list(trials)[: self.n_trials]
        time_ms = np.arange(batch.inputs.shape[1]) * float(batch.dt)
        for marks, trial in zip(self.panels, trials):
            inputs = np.asarray(batch.inputs[trial], float).T
            targets = np.asarray(batch.targets[trial], float).T
            mask = np.asarray(batch.mask[trial], float).max(axis=1)
            values = [inputs, targets] + ([np.asarray(outputs[trial], float).T]
                                          if outputs is not None else [])
            low = min(0.0, *(float(v.min()) for v in values if v.size))
            high = max(1.0, *(float(v.max()) for v in values if v.size))
            self._draw(marks["inputs"], time_ms, inputs)
            self._draw(marks["targets"], time_ms, targets)
            self._draw(marks["mask"], time_ms, mask[None, :])
            if outputs is not None:
                self._draw(marks["outputs"], time_ms, np.asarray(outputs[trial], float).T)
            px, py = self._period_boxes(batch, trial, low, high)
            with marks["periods"].hold_sync():
                marks["periods"].x = px
                marks["periods"].y = py
        for marks in self.panels[len(trials):]:
            for mark in marks.values():
                self._draw(mark, np.zeros(0), np.zeros((1, 0)))
        self.shown = len(trials)
        self.revision += 1

    @staticmethod
    def _draw(mark: bqplot.Lines, x: np.ndarray, y: np.ndarray) -> None:
        with mark.hold_sync():
            mark.x = x
            mark.y = y

    @staticmethod
    def _period_boxes(batch: Any, trial: int, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
        periods = getattr(batch, "periods", None) or {}
        xs, ys = [], []
        dt = float(batch.dt)
        for bounds in periods.values():
            start, end = (float(v) * dt for v in np.asarray(bounds)[trial])
            if end <= start:
                continue
            xs.append([start, end, end, start, start])
            ys.append([low, low, high, high, low])
        if not xs:
            return np.zeros((1, 0)), np.zeros((1, 0))
        return np.asarray(xs), np.asarray(ys)
