"""Live bqplot charts: loss, accuracy, weight heatmap and psychometric curve.

Each chart builds its marks once and changes only their data, inside ``hold_sync()`` so that x
and y arrive in the browser together. Charts do not subscribe to anything: the dashboard's
throttled updater calls their ``update`` methods.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

__all__ = ["LossChart", "AccuracyChart", "WeightHeatmap", "PsychometricChart", "make_figure"]


def make_figure(
    marks: list, axes: list, title: str, css_class: str, width: str = "360px", height: str = "240px"
) -> bqplot.Figure:
    """Return a figure with animations off (streamed data would otherwise lag behind)."""
    figure = bqplot.Figure(
        marks=marks,
        axes=axes,
        title=title,
        animation_duration=0,
        fig_margin=dict(top=30, bottom=40, left=55, right=15),
        layout=widgets.Layout(width=width, height=height),
        title_style={"font-size": "13px"},
    )
    figure.add_class(css_class)
    return figure


def _stage_lines(
    stage_changes: Sequence[tuple[int, int, int]], low: float, high: float
) -> tuple[np.ndarray, np.ndarray]:
    # One vertical segment per stage change; the first stage starts at 0 and needs no mark.
    xs = [[trials, trials] for _, trials, stage in stage_changes if trials > 0]
    if not xs:
        return np.zeros((1, 0)), np.zeros((1, 0))
    ys = [[low, high]] * len(xs)
    return np.asarray(xs, float), np.asarray(ys, float)


def log_ticks(low: float, high: float) -> np.ndarray:
    """Return 1-2-5 tick values between ``low`` and ``high`` (positive), at most about six.

    bqplot labels every tick that d3 makes for a log scale, which overlap within one decade.
    """
    if not (0 < low <= high):
        return np.array([])
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    for multipliers in ((1, 2, 5), (1,)):
        ticks = [m * 10.0**k for k in range(first, last + 1) for m in multipliers]
        inside = [t for t in ticks if low <= t <= high]
        if len(inside) <= 6:
            break
    if len(inside) < 2:
        inside = sorted({float(f"{low:.2g}"), float(f"{high:.2g}")})
    return np.asarray(inside)


def log_range(values: np.ndarray) -> tuple[float, float]:
    """Return a log-scale domain around positive ``values`` that spans at least a factor of 2."""
    if len(values) == 0:
        return 1e-3, 1.0
    low, high = float(values.min()) / 1.1, float(values.max()) * 1.1
    if high / low < 2.0:
        middle = math.sqrt(low * high)
        low, high = middle / math.sqrt(2.0), middle * math.sqrt(2.0)
    return low, high


class _CurveChart(widgets.VBox):
    """A value against trials, with vertical marks where the curriculum stage changed."""

    points = traitlets.Int(0, help="Number of points shown.")

    def __init__(self, title: str, css_class: str, y_scale: bqplot.Scale, y_label: str,
                 color: str) -> None:
        super().__init__()
        self.add_class(css_class)
        self._x_scale = bqplot.LinearScale()
        self._y_scale = y_scale
        scales = {"x": self._x_scale, "y": self._y_scale}
        self.line = bqplot.Lines(x=np.zeros(0), y=np.zeros(0), scales=scales, colors=[color])
        self.stages = bqplot.Lines(
            x=np.zeros((1, 0)), y=np.zeros((1, 0)), scales=scales, colors=["#888"],
            line_style="dashed",
        )
        self._y_axis = bqplot.Axis(scale=self._y_scale, label=y_label, side="left",
                                   tick_format=".2g")
        axes = [bqplot.Axis(scale=self._x_scale, label="trials", num_ticks=4), self._y_axis]
        self.figure = make_figure([self.line, self.stages], axes, title, f"{css_class}-figure")
        self.children = [self.figure]

    def _set(self, trials: np.ndarray, values: np.ndarray, stage_changes: Sequence,
             low: float, high: float) -> None:
        stage_x, stage_y = _stage_lines(stage_changes, low, high)
        # An explicit x domain, never empty: with one point, the automatic domain has zero
        # width, bqplot 0.13.1 builds the tick format ".undefinedg", and the chart stops redrawing.
        if len(trials):
            first, last = float(trials.min()), float(trials.max())
            if last - first < 1.0:
                first, last = first - 1.0, last + 1.0
            with self._x_scale.hold_sync():
                self._x_scale.min = first
                self._x_scale.max = last
        with self.line.hold_sync():
            self.line.x = trials
            self.line.y = values
        with self.stages.hold_sync():
            self.stages.x = stage_x
            self.stages.y = stage_y
        self.points = len(trials)


class LossChart(_CurveChart):
    """Training loss (log scale) against trials; CSS class ``prw-loss-chart``."""

    def __init__(self) -> None:
        super().__init__("Loss", "prw-loss-chart", bqplot.LogScale(), "loss", "#c05621")

    def update(self, trials: Any, loss: Any, stage_changes: Sequence = ()) -> None:
        """Show ``loss`` against ``trials``; entries that are not positive and finite are dropped."""
        trials = np.asarray(trials, float)
        loss = np.asarray(loss, float)
        keep = np.isfinite(loss) & (loss > 0)
        trials, loss = trials[keep], loss[keep]
        low, high = log_range(loss)
        # An explicit domain: with one point, or equal values, d3's automatic log domain is
        # empty, and bqplot 0.13.1 then fails to format the ticks and stops redrawing.
        with self._y_scale.hold_sync():
            self._y_scale.min = low
            self._y_scale.max = high
        self._y_axis.tick_values = log_ticks(low, high)
        self._set(trials, loss, stage_changes, low, high)


class AccuracyChart(_CurveChart):
    """Accuracy (0 to 1) against trials; CSS class ``prw-accuracy-chart``."""

    def __init__(self) -> None:
        super().__init__(
            "Accuracy", "prw-accuracy-chart", bqplot.LinearScale(min=0.0, max=1.0), "accuracy",
            "#2b6cb0",
        )

    def update(self, trials: Any, accuracy: Any, stage_changes: Sequence = ()) -> None:
        """Show ``accuracy`` against ``trials``; NaN entries (updates not evaluated) are dropped."""
        trials = np.asarray(trials, float)
        accuracy = np.asarray(accuracy, float)
        keep = np.isfinite(accuracy)
        self._set(trials[keep], accuracy[keep], stage_changes, 0.0, 1.0)


class WeightHeatmap(widgets.VBox):
    """Heatmap of a weight matrix (the effective W_rec); CSS class ``prw-weight-heatmap``.

    The colour scale is symmetric around 0 (red negative, blue positive).
    """

    shape = traitlets.Tuple((0, 0), help="Shape of the matrix shown.")

    def __init__(self, title: str = "W_rec") -> None:
        super().__init__()
        self.add_class("prw-weight-heatmap")
        self._color = bqplot.ColorScale(scheme="RdBu", mid=0.0, min=-1.0, max=1.0)
        x_scale, y_scale = bqplot.LinearScale(), bqplot.LinearScale(reverse=True)
        self.mark = bqplot.HeatMap(
            x=np.arange(2), y=np.arange(2), color=np.zeros((2, 2)),
            scales={"x": x_scale, "y": y_scale, "color": self._color},
        )
        axes = [
            bqplot.Axis(scale=x_scale, label="from unit", num_ticks=3),
            bqplot.Axis(scale=y_scale, label="to unit", side="left", num_ticks=3),
        ]
        # The colour range goes into the title: a ColorAxis this small drew overlapping labels.
        self._title = title
        self.figure = make_figure([self.mark], axes, title, "prw-weight-figure", "300px", "280px")
        self.children = [self.figure]

    def update(self, weights: Any, title: str | None = None) -> None:
        """Show ``weights`` (2-D); the colour range follows the largest absolute value."""
        if title is not None:
            self._title = title
        weights = np.asarray(weights, float)
        if weights.ndim != 2 or min(weights.shape) < 2:
            return
        limit = float(np.max(np.abs(weights))) or 1.0
        rows, columns = weights.shape
        with self.mark.hold_sync(), self.mark.hold_trait_notifications():
            self.mark.color = weights
            self.mark.x = np.arange(columns)
            self.mark.y = np.arange(rows)
        with self._color.hold_sync():
            self._color.min = -limit
            self._color.max = limit
        self.figure.title = f"{self._title}, blue +{limit:.2g}, red -{limit:.2g}"
        self.shape = (rows, columns)


class PsychometricChart(widgets.VBox):
    """Choice fraction against the task's graded variable; CSS class ``prw-psychometric``.

    Hidden (``available`` False) for tasks without a psychometric curve.
    """

    available = traitlets.Bool(True, help="Whether the task has a psychometric curve.")
    points = traitlets.Int(0, help="Number of levels shown.")

    def __init__(self) -> None:
        super().__init__()
        self.add_class("prw-psychometric")
        self._x_scale = bqplot.LinearScale()
        y_scale = bqplot.LinearScale(min=0.0, max=1.0)
        scales = {"x": self._x_scale, "y": y_scale}
        self.line = bqplot.Lines(x=np.zeros(0), y=np.zeros(0), scales=scales, colors=["#2f855a"])
        self.dots = bqplot.Scatter(x=np.zeros(0), y=np.zeros(0), scales=scales, colors=["#2f855a"])
        self._x_axis = bqplot.Axis(scale=self._x_scale, label="", num_ticks=5)
        axes = [self._x_axis, bqplot.Axis(scale=y_scale, label="choice fraction",
                                          side="left")]
        self.figure = make_figure([self.line, self.dots], axes, "Psychometric curve",
                                  "prw-psychometric-figure")
        self.children = [self.figure]

    def update(self, variable: str, levels: Any, fraction: Any) -> None:
        """Show ``fraction`` against ``levels`` of ``variable``."""
        levels = np.asarray(levels, float)
        fraction = np.asarray(fraction, float)
        order = np.argsort(levels)
        levels, fraction = levels[order], fraction[order]
        self._x_axis.label = variable
        for mark in (self.line, self.dots):
            with mark.hold_sync():
                mark.x = levels
                mark.y = fraction
        self.points = len(levels)

    @traitlets.observe("available")
    def _on_available(self, change: Any) -> None:
        self.layout.display = None if change["new"] else "none"
