"""Task form: a field per declared task parameter, a task selector and a trial preview."""

from __future__ import annotations

import html
import logging
import time
from typing import Any

import ipywidgets as widgets
import traitlets

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import TASKS, PerceptualDiscrimination, Task, get_task, list_tasks
from psychrnn_widgets.widgets._guard import StatusLine, guarded
from psychrnn_widgets.widgets.fields import ParamField
from psychrnn_widgets.widgets.traces import TraceChart

__all__ = ["TaskForm"]

logger = logging.getLogger(__name__)


class TaskForm(widgets.VBox):
    """Edit a task through fields generated from its ``Param`` declarations.

    ``task`` always holds the last valid task: a rejected value shows its message under its
    field and leaves ``task`` unchanged. Every accepted change redraws the trial preview (a few
    trials of a fixed seed, periods shaded).

    Parameters
    ----------
    task
        Starting task; PerceptualDiscrimination with its defaults when None.
    status
        Status line for unexpected errors; a new one by default.
    preview_trials
        Number of trials in the preview; 0 leaves the preview out.
    """

    task = traitlets.Instance(Task, help="Last valid task.")
    preview_seconds = traitlets.Float(0.0, help="Time the last preview redraw took, in seconds.")

    def __init__(self, task: Task | None = None, status: StatusLine | None = None,
                 preview_trials: int = 3) -> None:
        super().__init__()
        self.add_class("prw-task-form")
        self.status = status if status is not None else StatusLine()
        self.fields: dict[str, ParamField] = {}
        self.selector = widgets.Dropdown(
            options=[(title, name) for name, title, _ in list_tasks()], description="Task",
            layout=widgets.Layout(width="320px"), style={"description_width": "130px"},
        )
        self.selector.add_class("prw-task-select")
        self.description = widgets.HTML()
        self.description.add_class("prw-task-description")
        self.field_box = widgets.VBox()
        self.preview = TraceChart(preview_trials, "Preview trial", "prw-trial-preview", "260px") \
            if preview_trials > 0 else None
        task = task if task is not None else PerceptualDiscrimination()
        self._building = False
        self._set_task(task)
        self.selector.observe(self._on_select, "value")
        parts: list[widgets.Widget] = [self.selector, self.description, self.field_box]
        if self.preview is not None:
            parts.append(self.preview)
        self.children = parts

    def set_value(self, name: str, value: Any) -> bool:
        """Submit ``value`` for parameter ``name`` as if typed; return whether it was accepted."""
        if name not in self.fields:
            raise InvalidParameterError(
                name, f"unknown {type(self.task).__name__} parameter {name!r}", name
            )
        field = self.fields[name]
        field.show(value)
        return field.submit(value)

    @property
    def errors(self) -> dict[str, str]:
        """Current messages by field name (fields whose last input was rejected)."""
        return {name: field.error for name, field in self.fields.items() if field.error}

    def _set_task(self, task: Task) -> None:
        self._building = True
        try:
            if task.name in TASKS and self.selector.value != task.name:
                self.selector.value = task.name
            self.description.value = (
                f"<b>{html.escape(task.title)}</b><br><small>{html.escape(task.description)}</small>"
            )
            values = task.values()
            self.fields = {
                param.name: ParamField(param, values[param.name], self._submit, status=self.status)
                for param in type(task).params
            }
            self.field_box.children = list(self.fields.values())
            self.task = task
        finally:
            self._building = False

    def _submit(self, name: str, value: Any) -> None:
        # Raises InvalidParameterError for the field to show; the old task stays in place.
        new_task = self.task.replace(**{name: value})
        self.fields[name].accept(getattr(new_task, name))
        self.task = new_task

    @guarded("Task")
    def _on_select(self, change: Any) -> None:
        if self._building or change["new"] == self.task.name:
            return
        self._set_task(get_task(change["new"]))

    @traitlets.observe("task")
    def _on_task(self, change: Any) -> None:
        self._redraw_preview()

    @guarded("Trial preview")
    def _redraw_preview(self) -> None:
        if self.preview is None:
            return
        start = time.perf_counter()
        small = self.task.replace(N_batch=self.preview.n_trials) \
            if "N_batch" in self.fields else self.task
        self.preview.update(small.generate_batch(0))
        self.preview_seconds = time.perf_counter() - start
