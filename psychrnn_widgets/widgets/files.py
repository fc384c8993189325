"""Saving and loading the dashboard's network: a path in a notebook, upload and download in a page."""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError, WeightFileError
from psychrnn_widgets.widgets._guard import guarded

__all__ = ["FileActions"]

logger = logging.getLogger(__name__)

_MASK_KEYS = {"W_rec": "rec_connectivity", "W_in": "input_connectivity",
              "W_out": "output_connectivity"}


class FileActions:
    """Save, Load and Upload handlers of the Dashboard (a mixin; needs its attributes)."""

    _quiet_settings = False

    def save(self, path: str | os.PathLike[str] | None = None) -> bytes:
        """Save the network (and trainer history) to ``path``; return the file's bytes.

        With ``path`` None the file goes to a temporary folder only; either way the controls
        offer the bytes as a download link.
        """
        from psychrnn_widgets.engine import save_network

        if self._trainer_state() == "running":
            raise InvalidParameterError("state", "cannot save while training runs; press Pause first")
        with tempfile.TemporaryDirectory() as folder:
            target = os.path.join(folder, "network.npz") if path is None else os.fspath(path)
            written = save_network(target, self.network, self.trainer)
            with open(written, "rb") as handle:
                data = handle.read()
        name = os.path.basename(os.fspath(written)) if path else "network.npz"
        self.controls.offer_download(data, name)
        return data

    def load(self, path: str | os.PathLike[str]) -> None:
        """Load a network file and make it the dashboard's network (training history restarts)."""
        from psychrnn_widgets.engine import load_network

        if self._trainer_state() in ("running", "paused"):
            raise InvalidParameterError("state", "cannot load while training runs; press Stop first")
        self.use_network(load_network(path))

    def use_network(self, network: Any) -> None:
        """Make a built network the dashboard's network; its sizes must fit the task."""
        task = self.task_form.task
        config = network.config
        if (config.N_in, config.N_out) != (task.N_in, task.N_out):
            raise InvalidParameterError(
                "network",
                f"the network has N_in={config.N_in}, N_out={config.N_out} but the task "
                f"{task.name} has N_in={task.N_in}, N_out={task.N_out}",
            )
        self._end_training()
        self._quiet_settings = True
        try:
            panel = self.network_panel
            panel.config = config.replace(rec_connectivity=None, input_connectivity=None,
                                          output_connectivity=None, initial_weights=None)
            for name, field in panel.fields.items():
                if hasattr(config, name):
                    value = getattr(config, name)
                    field.accept(value if isinstance(value, (str, int, float, type(None)))
                                 else field.value)
            editor = self.mask_editor
            with editor.hold_trait_notifications():
                editor.N_rec = config.N_rec
                editor.dale_ratio = config.dale_ratio
            editor._reset_arrays()
            for name, key in _MASK_KEYS.items():
                mask = getattr(config, key)
                if mask is not None:
                    editor.set_mask(name, (np.asarray(mask) > 0) * 1.0)
        finally:
            self._quiet_settings = False
        with self.updater.lock:
            self._adopt_network(network)
        self.updater.tick()

    @guarded("Save")
    def _on_save(self, button: Any) -> None:
        path = self.controls.save_path.value.strip() or None
        self.save(path)
        where = f" to {path}" if path else ""
        self.status.show(f"Network saved{where}; the download link is ready.")

    @guarded("Load")
    def _on_load(self, button: Any) -> None:
        path = self.controls.save_path.value.strip()
        if not path:
            raise InvalidParameterError("path", "enter the path of a .npz file to load")
        self.load(path)
        self.status.show(f"Network loaded from {path}.")

    @guarded("Upload")
    def _on_upload(self, change: Any) -> None:
        files = change["new"]
        if not files:
            return
        upload = files[0]
        content = bytes(upload["content"])
        with tempfile.TemporaryDirectory() as folder:
            target = os.path.join(folder, "uploaded.npz")
            with open(target, "wb") as handle:
                handle.write(content)
            try:
                self.load(target)
            except WeightFileError as error:
                # Name the file the user picked, not the kernel's temporary path.
                raise WeightFileError(str(error).replace(target, upload["name"])) from None
        self.status.show(f"Network loaded from {upload['name']}.")
