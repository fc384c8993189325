"""Curriculum editor: ordered stages of task-parameter overrides, each with a threshold."""

from __future__ import annotations

import ast
import html
import logging
import math
from typing import Any

import ipywidgets as widgets
import traitlets

from psychrnn_widgets.engine import Curriculum, Stage
from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import Task
from psychrnn_widgets.widgets._guard import StatusLine, guarded

__all__ = ["CurriculumEditor", "parse_overrides"]

logger = logging.getLogger(__name__)


def parse_overrides(text: str) -> dict[str, Any]:
    """Parse ``"coherence=0.7, coherence_levels=[0.5, 0.7]"`` into a dict of Python literals."""
    text = text.strip()
    if not text:
        return {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        if not isinstance(call, ast.Call) or call.args:
            raise SyntaxError("positional value")
        result = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                raise SyntaxError("** is not allowed")
            result[keyword.arg] = ast.literal_eval(keyword.value)
    except (SyntaxError, ValueError):
        raise InvalidParameterError(
            "overrides",
            f"overrides must read name=value, separated by commas (got {text!r})",
            text,
        ) from None
    return result


class CurriculumEditor(widgets.VBox):
    """Ordered curriculum stages; each overrides task parameters and has an accuracy threshold.

    ``stages`` is a list of ``{"overrides": dict, "threshold": float}``; edits are validated
    against ``task`` (the base task) and a rejected edit shows its message in its row. During
    training the owner sets ``current_stage`` and ``metric``.

    Parameters
    ----------
    task
        Base task the overrides apply to.
    status
        Status line for unexpected errors.
    """

    task = traitlets.Instance(Task, help="Base task that each stage overrides.")
    enabled = traitlets.Bool(False, help="Whether Train uses the curriculum.")
    stages = traitlets.List(help="Stages in order: {'overrides': dict, 'threshold': float}.")
    current_stage = traitlets.Int(-1, help="Stage being trained, -1 when not training.")
    metric = traitlets.Float(math.nan, help="Last measured metric of the current stage.")
    metric_epoch = traitlets.Int(10, min=1, help="Updates between two metric checks.")

    def __init__(self, task: Task, status: StatusLine | None = None) -> None:
        super().__init__()
        self.add_class("prw-curriculum-editor")
        self.status = status if status is not None else StatusLine()
        self.task = task
        self.errors: dict[int, str] = {}
        self._editing = False
        self.enable_box = widgets.Checkbox(description="Use curriculum", indent=False)
        self.enable_box.add_class("prw-curriculum-enabled")
        widgets.link((self, "enabled"), (self.enable_box, "value"))
        self.add_button = widgets.Button(description="Add stage", icon="plus")
        self.add_button.add_class("prw-curriculum-add")
        self.add_button.on_click(self._on_add)
        self.current_label = widgets.HTML("")
        self.current_label.add_class("prw-curriculum-current")
        self.rows = widgets.VBox()
        self.rows.add_class("prw-curriculum-stages")
        self.children = [widgets.HTML("<b>Curriculum</b>"),
                         widgets.HBox([self.enable_box, self.add_button]),
                         self.rows, self.current_label]

    def add_stage(self, overrides: dict[str, Any] | None = None, threshold: float = 0.9) -> None:
        """Append a stage after validating its overrides against ``task``."""
        overrides = dict(overrides or {})
        self._validate(overrides, threshold)
        self.stages = [*self.stages, {"overrides": overrides, "threshold": float(threshold)}]

    def remove_stage(self, index: int) -> None:
        """Remove the stage at ``index``."""
        stages = list(self.stages)
        del stages[index]
        self.stages = stages

    def move_stage(self, index: int, offset: int) -> None:
        """Move the stage at ``index`` by ``offset`` places (-1 up, +1 down), within bounds."""
        target = index + offset
        if not (0 <= index < len(self.stages) and 0 <= target < len(self.stages)):
            return
        stages = list(self.stages)
        stages[index], stages[target] = stages[target], stages[index]
        self.stages = stages

    def edit_stage(self, index: int, text: str | None = None, threshold: float | None = None) -> bool:
        """Change a stage's overrides (as text) or threshold; return whether it was accepted."""
        stage = dict(self.stages[index])
        try:
            if text is not None:
                stage["overrides"] = parse_overrides(text)
            if threshold is not None:
                stage["threshold"] = float(threshold)
            self._validate(stage["overrides"], stage["threshold"])
        except InvalidParameterError as error:
            self.errors[index] = str(error)
            self._show_error(index)
            return False
        self.errors.pop(index, None)
        stages = list(self.stages)
        stages[index] = stage
        self._editing = True
        try:
            self.stages = stages
        finally:
            self._editing = False
        return True

    def build(self, task: Task | None = None) -> Curriculum | None:
        """Return the engine Curriculum for ``task`` (default the base task), or None when off."""
        task = task if task is not None else self.task
        if not self.enabled or not self.stages:
            return None
        stages = [
            Stage(task.replace(**stage["overrides"]), threshold=stage["threshold"],
                  name=f"Stage {k + 1}")
            for k, stage in enumerate(self.stages)
        ]
        return Curriculum(stages, metric_epoch=self.metric_epoch)

    def _validate(self, overrides: dict[str, Any], threshold: float) -> None:
        if not (0.0 <= threshold <= 1.0):
            raise InvalidParameterError(
                "threshold", f"threshold must be between 0 and 1 (got threshold={threshold:g})",
                threshold,
            )
        self.task.replace(**overrides)

    @staticmethod
    def _text(overrides: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in overrides.items())

    @traitlets.observe("stages")
    def _on_stages(self, change: Any) -> None:
        if self._editing:
            # The edited row already shows the new value; rebuilding would drop its focus.
            return
        new = change["new"]
        self.errors = {}
        self.rows.children = [self._make_row(k, s) for k, s in enumerate(new)]
        self._show_current()

    def _make_row(self, index: int, stage: dict[str, Any]) -> widgets.VBox:
        label = widgets.HTML(f"<b>{index + 1}.</b>", layout=widgets.Layout(width="40px"))
        text = widgets.Text(value=self._text(stage["overrides"]), placeholder="coherence=0.7",
                            continuous_update=False, layout=widgets.Layout(width="260px"))
        text.add_class("prw-stage-overrides")
        threshold = widgets.BoundedFloatText(value=stage["threshold"], min=0.0, max=1.0,
                                             step=0.05, layout=widgets.Layout(width="80px"))
        threshold.add_class("prw-stage-threshold")
        buttons = []
        for name, icon, tip in (("up", "arrow-up", "Move up"), ("down", "arrow-down", "Move down"),
                                ("remove", "trash", "Remove")):
            button = widgets.Button(icon=icon, tooltip=tip, layout=widgets.Layout(width="36px"))
            button.add_class(f"prw-stage-{name}")
            button.on_click(lambda _b, n=name, i=index: self._on_row_button(n, i))
            buttons.append(button)
        error = widgets.HTML("", layout=widgets.Layout(display="none"))
        error.add_class("prw-field-error")
        text.observe(lambda c, i=index: self._on_row_edit(i, text=c["new"]), "value")
        threshold.observe(lambda c, i=index: self._on_row_edit(i, threshold=c["new"]), "value")
        row = widgets.VBox([widgets.HBox([label, text, threshold, *buttons]), error])
        row.add_class("prw-stage")
        return row

    def _show_error(self, index: int) -> None:
        if index >= len(self.rows.children):
            return
        error = self.rows.children[index].children[1]
        message = self.errors.get(index, "")
        error.value = html.escape(message)
        error.layout.display = None if message else "none"

    @guarded("Curriculum")
    def _on_add(self, button: Any) -> None:
        self.add_stage(dict(self.stages[-1]["overrides"]) if self.stages else {})

    @guarded("Curriculum")
    def _on_row_button(self, name: str, index: int) -> None:
        if name == "remove":
            self.remove_stage(index)
        else:
            self.move_stage(index, -1 if name == "up" else 1)

    @guarded("Curriculum")
    def _on_row_edit(self, index: int, text: str | None = None,
                     threshold: float | None = None) -> None:
        if self.edit_stage(index, text=text, threshold=threshold):
            self._show_error(index)

    @traitlets.observe("current_stage", "metric")
    def _on_current(self, change: Any) -> None:
        self._show_current()

    def _show_current(self) -> None:
        for k, row in enumerate(self.rows.children):
            if k == self.current_stage:
                row.add_class("prw-stage-current")
            else:
                row.remove_class("prw-stage-current")
        if self.current_stage < 0 or not self.stages:
            self.current_label.value = ""
            return
        if self.current_stage >= len(self.stages):
            self.current_label.value = "Curriculum finished"
            return
        metric = "not measured yet" if math.isnan(self.metric) else f"{self.metric:.2f}"
        threshold = self.stages[self.current_stage]["threshold"]
        self.current_label.value = html.escape(
            f"Stage {self.current_stage + 1} of {len(self.stages)}: metric {metric}, "
            f"threshold {threshold:g}"
        )
