"""Network panel: the network settings and the learning rate, as a validated form."""

from __future__ import annotations

import logging
from typing import Any

import ipywidgets as widgets
import traitlets

from psychrnn_widgets.engine import NetworkConfig, TrainingConfig
from psychrnn_widgets.engine.config import INITIALIZERS, MODELS
from psychrnn_widgets.tasks import Param
from psychrnn_widgets.widgets._guard import StatusLine
from psychrnn_widgets.widgets.fields import ParamField

__all__ = ["NetworkPanel", "NETWORK_PARAMS"]

logger = logging.getLogger(__name__)

NETWORK_PARAMS: tuple[Param, ...] = (
    Param("model", "choice", "rate", "Network kind: continuous-time rate RNN, LSTM or GRU.",
          choices=MODELS),
    Param("N_rec", "int", 50, "Number of recurrent units.", minimum=1, maximum=1000),
    Param("tau", "float", 100.0, "Time constant of the units (at least dt).", unit="ms",
          minimum=0.0, min_inclusive=False),
    Param("rec_noise", "float", 0.0, "Scale of the recurrent noise.", minimum=0.0),
    Param("transfer_function", "choice", "relu", "Rate as a function of the unit state.",
          choices=("relu", "tanh", "sigmoid", "softplus", "linear")),
    Param("dale_ratio", "float", None,
          "Fraction of excitatory units under Dale's law (rate model only).",
          minimum=0.0, maximum=1.0, allow_none=True),
    Param("autapses", "bool", True, "Allow connections from a unit to itself."),
    Param("initializer", "choice", "spectral_radius", "How W_rec is drawn.", choices=INITIALIZERS),
    Param("learning_rate", "float", 1e-3, "Step size of the Adam optimizer.",
          minimum=0.0, min_inclusive=False),
    Param("seed", "int", None, "Seed of the initial weights and training noise.",
          minimum=0, allow_none=True),
)
_NONE_LABELS = {"dale_ratio": "off", "seed": "random"}
_TRAINING_FIELDS = ("learning_rate",)


class NetworkPanel(widgets.VBox):
    """Network settings; ``config`` and ``training_config`` hold the last valid combination.

    A value that makes the whole configuration invalid (for example ``tau`` below ``dt``, or
    ``dale_ratio`` with an LSTM) shows the engine's message under the field that was changed.

    Parameters
    ----------
    config
        Starting network configuration (sets ``N_in``, ``N_out``, ``dt`` too).
    learning_rate
        Starting learning rate.
    status
        Status line for unexpected errors.
    """

    config = traitlets.Instance(NetworkConfig, help="Last valid network configuration.")
    training_config = traitlets.Instance(TrainingConfig, help="Last valid training settings.")
    values = traitlets.Dict(help="Field name -> last valid value.")

    def __init__(self, config: NetworkConfig, learning_rate: float = 1e-3,
                 status: StatusLine | None = None) -> None:
        super().__init__()
        self.add_class("prw-network-panel")
        self.status = status if status is not None else StatusLine()
        values = {p.name: getattr(config, p.name) for p in NETWORK_PARAMS
                  if p.name not in _TRAINING_FIELDS}
        if not isinstance(values["transfer_function"], str):
            # A callable cannot be shown in the menu; the panel then edits a named function.
            values["transfer_function"] = "relu"
        values["learning_rate"] = learning_rate
        self.fields = {
            p.name: ParamField(p, values[p.name], self._submit,
                               none_label=_NONE_LABELS.get(p.name, "random per trial"),
                               status=self.status)
            for p in NETWORK_PARAMS
        }
        self.config = config
        self.training_config = TrainingConfig(learning_rate=learning_rate)
        self.values = values
        self.children = [widgets.HTML("<b>Network</b>"), *self.fields.values()]

    def set_value(self, name: str, value: Any) -> bool:
        """Submit ``value`` for field ``name`` as if typed; return whether it was accepted."""
        field = self.fields[name]
        field.show(value)
        return field.submit(value)

    def set_sizes(self, N_in: int, N_out: int, dt: float) -> None:
        """Follow the task's channel counts and time step (raises if ``dt`` breaks ``tau``)."""
        self.config = self.config.replace(N_in=N_in, N_out=N_out, dt=dt,
                                          input_connectivity=None, output_connectivity=None)

    def _submit(self, name: str, value: Any) -> None:
        # Build the whole configuration so that rules across fields are checked too; raising
        # leaves the field's error shown and keeps the last valid config.
        values = {**self.values, name: value}
        if name in _TRAINING_FIELDS:
            training = self.training_config.replace(learning_rate=values["learning_rate"])
            self.fields[name].accept(training.learning_rate)
            self.values = values
            self.training_config = training
            return
        changes = {k: v for k, v in values.items() if k not in _TRAINING_FIELDS}
        config = self.config.replace(**changes)
        self.fields[name].accept(getattr(config, name))
        self.values = values
        self.config = config
