"""Training controls: the five buttons, progress, status line, and saving and loading weights."""

from __future__ import annotations

import base64
import html
import math
from typing import Any

import ipywidgets as widgets
import traitlets

from psychrnn_widgets.widgets._guard import StatusLine

__all__ = ["TrainingControls", "BUTTON_STATES", "STATES"]

STATES = ("idle", "running", "paused", "stopped", "finished", "failed")
BUTTONS = ("Train", "Pause", "Step", "Stop", "Reset")
# Which buttons are enabled in each trainer state. Train also resumes a paused run.
BUTTON_STATES: dict[str, frozenset[str]] = {
    "idle": frozenset({"Train", "Step", "Reset"}),
    "running": frozenset({"Pause", "Stop"}),
    "paused": frozenset({"Train", "Step", "Stop", "Reset"}),
    "stopped": frozenset({"Train", "Step", "Reset"}),
    "finished": frozenset({"Train", "Step", "Reset"}),
    "failed": frozenset({"Train", "Step", "Reset"}),
}


def format_duration(seconds: float) -> str:
    """Return ``seconds`` as ``m:ss`` (or ``h:mm:ss``)."""
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingControls(widgets.VBox):
    """Buttons Train, Pause, Step, Stop, Reset; progress; status; Save and Load.

    The owner connects the buttons (``buttons["Train"].on_click(...)``) and keeps ``state``
    equal to the trainer's state; the buttons' ``disabled`` flags follow ``state``.

    Parameters
    ----------
    max_updates
        Initial number of updates that Train runs to.
    status
        Status line to use; a new one by default.
    """

    state = traitlets.Enum(STATES, "idle", help="Trainer state the buttons follow.")
    max_updates = traitlets.Int(500, min=1, help="Updates that a Train press runs up to.")
    trials = traitlets.Int(0, help="Trials seen so far.")
    total_trials = traitlets.Int(0, help="Trials at which training stops (progress maximum).")
    trials_per_s = traitlets.Float(0.0, help="Recent training throughput.")

    def __init__(self, max_updates: int = 500, status: StatusLine | None = None) -> None:
        super().__init__()
        self.add_class("prw-training-controls")
        self.status = status if status is not None else StatusLine()
        self.buttons: dict[str, widgets.Button] = {}
        icons = {"Train": "play", "Pause": "pause", "Step": "step-forward", "Stop": "stop",
                 "Reset": "undo"}
        for label in BUTTONS:
            button = widgets.Button(description=label, icon=icons[label],
                                    layout=widgets.Layout(width="90px"))
            button.add_class(f"prw-{label.lower()}-button")
            self.buttons[label] = button
        self.max_updates = max_updates
        updates = widgets.BoundedIntText(description="Updates", min=1, max=10_000_000,
                                         layout=widgets.Layout(width="180px"))
        updates.add_class("prw-max-updates")
        widgets.link((self, "max_updates"), (updates, "value"))
        self.progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0,
                                              layout=widgets.Layout(width="300px"))
        self.progress.add_class("prw-progress")
        self.throughput = widgets.Label("")
        self.throughput.add_class("prw-throughput")

        self.save_path = widgets.Text(value="network.npz", description="File",
                                      layout=widgets.Layout(width="260px"))
        self.save_path.add_class("prw-save-path")
        self.save_button = widgets.Button(description="Save", icon="save",
                                          layout=widgets.Layout(width="90px"))
        self.save_button.add_class("prw-save-button")
        self.load_button = widgets.Button(description="Load", icon="folder-open",
                                          layout=widgets.Layout(width="90px"))
        self.load_button.add_class("prw-load-button")
        self.upload = widgets.FileUpload(accept=".npz", multiple=False, description="Upload")
        self.upload.add_class("prw-upload")
        self.download = widgets.HTML("")
        self.download.add_class("prw-download")

        self.children = [
            widgets.HBox(list(self.buttons.values()) + [updates]),
            widgets.HBox([self.progress, self.throughput]),
            self.status,
            widgets.HBox([self.save_path, self.save_button, self.load_button, self.upload,
                          self.download]),
        ]
        self._apply_state()

    @property
    def enabled(self) -> frozenset[str]:
        """Labels of the buttons enabled now."""
        return frozenset(k for k, b in self.buttons.items() if not b.disabled)

    def show_progress(self, trials: int, total_trials: int, trials_per_s: float) -> None:
        """Set the progress bar and the "trials/s, time left" label."""
        with self.hold_trait_notifications():
            self.trials = int(trials)
            self.total_trials = int(total_trials)
            self.trials_per_s = float(trials_per_s)
        fraction = trials / total_trials if total_trials > 0 else 0.0
        self.progress.value = min(1.0, max(0.0, fraction))
        text = f"{trials:,} / {total_trials:,} trials"
        if trials_per_s > 0 and math.isfinite(trials_per_s):
            left = max(0, total_trials - trials) / trials_per_s
            text += f", {trials_per_s:,.0f} trials/s, {format_duration(left)} left"
        self.throughput.value = text

    def offer_download(self, data: bytes, filename: str) -> None:
        """Show a link that downloads ``data`` as ``filename`` (a data: URL, no server needed)."""
        encoded = base64.b64encode(data).decode("ascii")
        name = html.escape(filename, quote=True)
        self.download.value = (
            f'<a class="prw-download-link" download="{name}" '
            f'href="data:application/octet-stream;base64,{encoded}">Download {name}</a>'
        )

    @traitlets.observe("state")
    def _apply_state(self, change: Any = None) -> None:
        enabled = BUTTON_STATES[self.state]
        for label, button in self.buttons.items():
            button.disabled = label not in enabled
        not_running = self.state != "running"
        self.save_button.disabled = not not_running
        self.load_button.disabled = not not_running
        self.upload.disabled = not not_running
