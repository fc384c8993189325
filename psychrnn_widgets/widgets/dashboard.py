"""The Dashboard: task, network, connectivity and curriculum settings, controls, live charts."""

from __future__ import annotations

import logging
import threading
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import PerceptualDiscrimination, Task
from psychrnn_widgets.widgets._guard import StatusLine, guarded
from psychrnn_widgets.widgets.controls import TrainingControls
from psychrnn_widgets.widgets.curriculum_editor import CurriculumEditor
from psychrnn_widgets.widgets.files import FileActions
from psychrnn_widgets.widgets.forms import TaskForm
from psychrnn_widgets.widgets.live import LiveView
from psychrnn_widgets.widgets.mask_editor import MaskEditor
from psychrnn_widgets.widgets.network_panel import NetworkPanel
from psychrnn_widgets.widgets.updater import ThrottledUpdater

__all__ = ["Dashboard"]

logger = logging.getLogger(__name__)

_ACTIVE = ("running", "paused")
_MASK_KEYS = {"W_rec": "rec_connectivity", "W_in": "input_connectivity",
              "W_out": "output_connectivity"}


class Dashboard(FileActions, widgets.VBox):
    """Everything in one layout: settings tabs, training controls and live charts.

    ``Dashboard()`` starts on perceptual discrimination with a 50-unit rate RNN, so Train works
    at once. Training runs in the trainer's background thread; the charts are redrawn by one
    throttled updater thread a few times a second.

    Parameters
    ----------
    task
        Starting task; PerceptualDiscrimination with its defaults when None.
    network
        A NetworkConfig, a built network, or None for ``NetworkConfig.for_task(task, N_rec=50)``.
    max_updates
        Updates per Train press, shown in the controls.
    refresh_interval
        Seconds between chart refreshes (default 0.2, five per second).
    trace_interval
        Seconds between runs of the network on the held-out batch during training (default 2).
        Each run took about 50 ms for 64 trials of 200 steps at N_rec=50 on 2 busy cores, time
        that the training thread loses.
    heldout_trials
        Trials in the held-out batch (fixed seed) used for traces and the psychometric curve.

    Notes
    -----
    Settings that change the network (size, constraints, masks) rebuild it at once while it
    is untrained. After training they wait for Reset, so that trained weights are not dropped
    without a click. Task and learning-rate changes apply at the next Train after Stop.
    """

    state = traitlets.Unicode("idle", help="Trainer state, as shown by the buttons.")

    def __init__(self, task: Task | None = None, network: Any = None, *, max_updates: int = 500,
                 refresh_interval: float = 0.2, trace_interval: float = 2.0,
                 heldout_trials: int = 64) -> None:
        super().__init__()
        self.add_class("prw-dashboard")
        task = task if task is not None else PerceptualDiscrimination()
        built = None
        if network is None:
            config = NetworkConfig.for_task(task, N_rec=50)
        elif isinstance(network, NetworkConfig):
            config = network
        else:
            built, config = network, network.config
        self.heldout_trials = heldout_trials
        self.status = StatusLine()
        self.controls = TrainingControls(max_updates=max_updates, status=self.status)
        self.task_form = TaskForm(task, status=self.status)
        self.network_panel = NetworkPanel(config.replace(rec_connectivity=None,
                                                         input_connectivity=None,
                                                         output_connectivity=None),
                                          status=self.status)
        self.mask_editor = MaskEditor(config.N_rec, config.N_in, config.N_out,
                                      dale_ratio=config.dale_ratio, status=self.status)
        for name, key in _MASK_KEYS.items():
            if getattr(config, key) is not None:
                self.mask_editor.set_mask(name, (np.asarray(getattr(config, key)) > 0) * 1.0)
        self.curriculum_editor = CurriculumEditor(task, status=self.status)
        self.live = LiveView(self.controls, self.curriculum_editor, self.status, trace_interval)
        self.updater = ThrottledUpdater(refresh_interval, on_error=self.status.error)
        self.updater.add_job(self._refresh)
        self._network: Any = None
        self.trainer: Trainer | None = None
        self._rebuild_due = ""
        self._rebuild_timer: threading.Timer | None = None
        self._trainer_stale = False
        self._pending_rebuild = False
        self._adopt_network(built if built is not None else build_network(config))
        self._new_heldout()
        self._wire()
        self._layout()
        self.updater.tick()

    # Public actions (the buttons call these)

    def train(self) -> None:
        """Start training, or resume a paused run."""
        with self.updater.lock:
            state = self._trainer_state()
            if state == "running":
                return
            if state == "paused":
                self.trainer.resume()
                return
            trainer = self._ready_trainer()
            self.live.offset_target(trainer, self.controls.max_updates,
                                    int(trainer.task.N_batch))
            trainer.start(max_updates=self.controls.max_updates)
        self.status.show("Training…", "busy")
        self.updater.start()
        self._sync_state()

    def pause(self) -> None:
        """Pause after the current update."""
        if self.trainer is not None:
            self.trainer.pause()
        self._sync_state()

    def step(self) -> None:
        """Do one update, then pause (starts a paused run when none is active)."""
        with self.updater.lock:
            state = self._trainer_state()
            if state == "running":
                return
            if state == "paused":
                trainer = self.trainer
            else:
                trainer = self._ready_trainer()
                self.live.offset_target(trainer, self.controls.max_updates,
                                        int(trainer.task.N_batch))
            trainer.step(1)
        self.updater.start()
        self._sync_state()

    def stop(self) -> None:
        """End the current run after the current update."""
        if self.trainer is not None:
            self.trainer.stop()
        self._sync_state()

    def reset(self) -> None:
        """Stop training, rebuild the network from the current settings and clear the charts."""
        self._end_training()
        with self.updater.lock:
            self._adopt_network(build_network(self._network_config()))
            self._new_heldout()
        self.status.show("Network rebuilt with fresh weights.")
        self.updater.tick()

    def close(self) -> None:
        """Stop training and the updater thread, then close the widgets."""
        if self._rebuild_timer is not None:
            self._rebuild_timer.cancel()
        self._end_training()
        self.updater.stop()
        super().close()

    def refresh(self) -> bool:
        """Run one chart refresh now, in the calling thread."""
        return self.updater.tick()

    # Network and trainer life cycle

    @property
    def network(self) -> Any:
        """The network being trained; a settings change still waiting is applied first."""
        # The updater's lock is the one lock for network changes: a rebuild in the timer thread
        # holds it, so this waits for that network instead of returning the old one.
        with self.updater.lock:
            if self._rebuild_due:
                self._apply_rebuild()
            return self._network

    def _apply_rebuild(self) -> None:
        with self.updater.lock:
            what, self._rebuild_due = self._rebuild_due, ""
            if not what:
                return
            self._adopt_network(build_network(self._network_config()))
        self.status.show(f"{what} changed: network rebuilt.")
        self.updater.tick()

    @guarded("Rebuild")
    def _rebuild_later(self) -> None:
        self._apply_rebuild()

    def _trainer_state(self) -> str:
        return self.trainer.state if self.trainer is not None else "idle"

    def _end_training(self, timeout: float = 5.0) -> None:
        trainer = self.trainer
        if trainer is not None and trainer.state in _ACTIVE:
            trainer.stop()
            trainer.join(timeout)

    def _network_config(self) -> NetworkConfig:
        config = self.network_panel.config
        task = self.task_form.task
        changes: dict[str, Any] = {"N_in": task.N_in, "N_out": task.N_out, "dt": task.dt}
        if config.model == "rate":
            # Masks are a rate-RNN feature; all-ones masks are left out (None means all ones).
            for name, key in _MASK_KEYS.items():
                mask = self.mask_editor.masks[name]
                changes[key] = None if mask.all() else mask.astype(float)
        return config.replace(**changes)

    def _adopt_network(self, network: Any) -> None:
        # Call with the updater lock held (or before the updater runs).
        if self.trainer is not None:
            self.trainer.remove_callback(self.live.on_event)
        self._network = network
        self._rebuild_due = ""
        self.trainer = None
        self._pending_rebuild = False
        self.live.network = network
        self.live.trainer = None
        self.live.clear()

    def _new_heldout(self) -> None:
        task = self.task_form.task
        small = task.replace(N_batch=self.heldout_trials) if "N_batch" in task.values() else task
        self.live.heldout = small.generate_batch(12345)
        self.live.heldout_task = small
        self.live.mark_traces_dirty()

    def _training_config(self) -> TrainingConfig:
        fixed = self.mask_editor.fixed_weights()
        # max_updates here bounds runs that Step starts, which get no max_updates of their own.
        # The network's seed also seeds batches and noise, so the same seed trains the same way.
        seed = self.network_panel.config.seed
        return self.network_panel.training_config.replace(
            fixed_weights=fixed or None, max_updates=self.controls.max_updates, seed=seed
        )

    def _ready_trainer(self) -> Trainer:
        """Return a trainer for the current task, curriculum and network (not active)."""
        config = self._training_config()
        if self.trainer is None or self._trainer_stale:
            if self.trainer is not None:
                self.trainer.remove_callback(self.live.on_event)
                self.live.offset = self.live.total_trials
            curriculum = self.curriculum_editor.build(self.task_form.task)
            trainer = Trainer(self.network, curriculum or self.task_form.task, config)
            trainer.add_callback(self.live.on_event)
            self.trainer = trainer
            self.live.trainer = trainer
            self._trainer_stale = False
        else:
            self.trainer.config = config
        return self.trainer

    def _sync_state(self) -> None:
        # Under the updater's lock, so that a state read here cannot overwrite a newer one that
        # a tick in the updater thread wrote in between.
        with self.updater.lock:
            self.state = self._trainer_state()
            self.controls.state = self.state

    def _settings_changed(self, what: str, rebuild: bool) -> None:
        """React to a settings change: rebuild or mark the trainer stale, or ask for Reset."""
        if self._quiet_settings:
            return
        if rebuild:
            trained = self.trainer is not None and self.trainer.updates > 0
            if self._trainer_state() in _ACTIVE or trained:
                self._pending_rebuild = True
                self.status.show(f"{what} changed: press Reset to rebuild the network with it.")
                return
            # Rebuilding took about a second at N_rec=100 on a 2-core machine, so a burst of
            # clicks in the mask editor is collected: the rebuild runs 0.4 s after the last
            # change, or as soon as the network is needed (Train, Step, Save, reading `network`).
            with self.updater.lock:
                self._rebuild_due = what
                if self._rebuild_timer is not None:
                    self._rebuild_timer.cancel()
                self._rebuild_timer = threading.Timer(0.4, self._rebuild_later)
                self._rebuild_timer.daemon = True
                self._rebuild_timer.start()
            self.status.show(f"{what} changed: rebuilding the network…", "busy")
            return
        self._trainer_stale = True
        if self._trainer_state() in _ACTIVE:
            self.status.show(f"{what} changed: it applies at the next Train after Stop.")

    # Wiring and layout

    def _wire(self) -> None:
        handlers = {"Train": self._on_train, "Pause": self._on_pause, "Step": self._on_step,
                    "Stop": self._on_stop, "Reset": self._on_reset}
        for label, handler in handlers.items():
            self.controls.buttons[label].on_click(handler)
        self.controls.save_button.on_click(self._on_save)
        self.controls.load_button.on_click(self._on_load)
        self.controls.upload.observe(self._on_upload, "value")
        self.task_form.observe(self._on_task, "task")
        self.network_panel.observe(self._on_network_config, "config")
        self.network_panel.observe(self._on_training_config, "training_config")
        self.mask_editor.observe(self._on_masks, "masks")
        self.mask_editor.observe(self._on_fixed, "fixed")
        self.curriculum_editor.observe(self._on_curriculum, ["stages", "enabled"])

    def _layout(self) -> None:
        live = self.live
        settings = widgets.Tab(children=[self.task_form, self.network_panel, self.mask_editor,
                                         self.curriculum_editor])
        for index, title in enumerate(("Task", "Network", "Connectivity", "Curriculum")):
            settings.set_title(index, title)
        settings.add_class("prw-settings")
        self.settings = settings
        title = widgets.HTML("<h3 style='margin:4px 0'>Train a recurrent network</h3>")
        self.children = [
            title,
            self.controls,
            widgets.HBox([live.loss_chart, live.accuracy_chart, live.psychometric]),
            live.traces,
            widgets.HBox([live.weights, self.curriculum_editor.current_label]),
            settings,
        ]

    def _refresh(self) -> bool:
        changed = self.live.refresh()
        state = self._trainer_state()
        if self.state != state:
            self.state = state
        return changed

    # Callbacks: each one catches its own errors (see guarded)

    @guarded("Train")
    def _on_train(self, button: Any) -> None:
        self.train()

    @guarded("Pause")
    def _on_pause(self, button: Any) -> None:
        self.pause()

    @guarded("Step")
    def _on_step(self, button: Any) -> None:
        self.step()

    @guarded("Stop")
    def _on_stop(self, button: Any) -> None:
        self.stop()

    @guarded("Reset")
    def _on_reset(self, button: Any) -> None:
        self.reset()

    @guarded("Task")
    def _on_task(self, change: Any) -> None:
        old, task = change["old"], change["new"]
        self.curriculum_editor.task = task
        sizes_changed = old is None or (old.N_in, old.N_out, old.dt) != (task.N_in, task.N_out,
                                                                          task.dt)
        if sizes_changed:
            self.network_panel.set_sizes(task.N_in, task.N_out, task.dt)
            with self.mask_editor.hold_trait_notifications():
                self.mask_editor.N_in = task.N_in
                self.mask_editor.N_out = task.N_out
        if self._trainer_state() not in _ACTIVE:
            with self.updater.lock:
                self._new_heldout()
            self.updater.tick()
        if sizes_changed:
            self._settings_changed("Task size", rebuild=True)
        else:
            self._settings_changed("Task", rebuild=False)

    @guarded("Network")
    def _on_network_config(self, change: Any) -> None:
        config = change["new"]
        with self.mask_editor.hold_trait_notifications():
            self.mask_editor.N_rec = config.N_rec
            self.mask_editor.dale_ratio = config.dale_ratio
        self._settings_changed("Network", rebuild=True)

    @guarded("Learning rate")
    def _on_training_config(self, change: Any) -> None:
        self._settings_changed("Learning rate", rebuild=False)

    @guarded("Connectivity")
    def _on_masks(self, change: Any) -> None:
        self._settings_changed("Connectivity", rebuild=True)

    @guarded("Fixed weights")
    def _on_fixed(self, change: Any) -> None:
        self._settings_changed("Fixed weights", rebuild=False)

    @guarded("Curriculum")
    def _on_curriculum(self, change: Any) -> None:
        self._settings_changed("Curriculum", rebuild=False)
