"""Progress of a parameter sweep: runs done, running and failed, with the failures' errors."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import traitlets

__all__ = ["SweepProgress", "SWEEP_STATES"]

SWEEP_STATES = ("idle", "running", "done")

# Failures listed under the bar; a sweep with many failures usually repeats one error.
_MAX_LISTED_ERRORS = 5


def _describe(settings: Any, seed: Any) -> str:
    parts = [f"{name}={value}" for name, value in dict(settings or {}).items()]
    if seed is not None:
        parts.append(f"seed={seed}")
    return ", ".join(parts)


class SweepProgress(widgets.VBox):
    """Progress bar and counts of a :func:`psychrnn_widgets.engine.sweep.sweep`.

    Pass the widget as ``progress=`` to ``sweep``; it is called with every
    :class:`~psychrnn_widgets.engine.sweep.SweepUpdate`. The counts are traitlets, so they can
    be observed or checked without a browser.

    Examples
    --------
    >>> progress = SweepProgress()
    >>> display(progress)  # doctest: +SKIP
    >>> table = sweep(base, grid, seeds, "runs", progress=progress)  # doctest: +SKIP
    """

    state = traitlets.Enum(SWEEP_STATES, "idle", help="idle before a sweep, running, then done.")
    total = traitlets.Int(0, help="Runs in the sweep.")
    done = traitlets.Int(0, help="Runs finished, including those read back from an earlier sweep.")
    skipped = traitlets.Int(0, help="Runs read back from an earlier sweep instead of trained.")
    running = traitlets.Int(0, help="Runs that a worker has started and not yet ended.")
    failed = traitlets.Int(0, help="Runs that ended with an error.")
    errors = traitlets.List(
        traitlets.Unicode(), help="One line per failed run: its settings and the error message."
    )

    def __init__(self) -> None:
        super().__init__()
        self.add_class("prw-sweep-progress")
        self._running_ids: set[str] = set()
        self.bar = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="300px"))
        self.bar.add_class("prw-sweep-bar")
        self.label = widgets.HTML()
        self.label.add_class("prw-sweep-counts")
        self.error_list = widgets.HTML()
        self.error_list.add_class("prw-sweep-errors")
        self.children = (widgets.HBox([self.bar, self.label]), self.error_list)
        self.observe(self._refresh, names=["state", "total", "done", "running", "failed", "errors"])
        self._refresh()

    @property
    def queued(self) -> int:
        """Runs not started yet."""
        return max(0, self.total - self.done - self.running - self.failed)

    def __call__(self, update: Any) -> None:
        """Apply one sweep update (the ``progress`` callback protocol of ``sweep``)."""
        kind = update.kind
        with self.hold_trait_notifications():
            if kind == "started":
                self._running_ids = set()
                self.total = int(update.total)
                self.done = self.skipped = self.running = self.failed = 0
                self.errors = []
                self.state = "running"
            elif kind == "running":
                self._running_ids.add(update.run_id)
            elif kind in ("finished", "skipped"):
                self._running_ids.discard(update.run_id)
                self.done += 1
                if kind == "skipped":
                    self.skipped += 1
            elif kind == "failed":
                self._running_ids.discard(update.run_id)
                self.failed += 1
                line = f"{_describe(update.settings, update.seed)}: {update.error}"
                self.errors = [*self.errors, line]
            elif kind == "done":
                self._running_ids = set()
                self.state = "done"
            self.running = len(self._running_ids)

    def _refresh(self, change: Any = None) -> None:
        self.bar.max = max(1, self.total)
        self.bar.value = min(self.total, self.done + self.failed)
        if self.failed:
            self.bar.bar_style = "danger"
        elif self.state == "done":
            self.bar.bar_style = "success"
        else:
            self.bar.bar_style = ""
        counts = f"{self.done} of {self.total} done, {self.running} running, {self.failed} failed"
        if self.skipped:
            counts += f" ({self.skipped} read back from an earlier sweep)"
        self.label.value = html.escape(counts)
        shown = self.errors[:_MAX_LISTED_ERRORS]
        listed = "".join(f"<li>{html.escape(line)}</li>" for line in shown)
        more = len(self.errors) - _MAX_LISTED_ERRORS
        if more > 0:
            listed += f"<li>and {more} more</li>"
        self.error_list.value = f"<ul>{listed}</ul>" if listed else ""
