"""Bad input everywhere: every invalid value raises our error through the API and shows in place in
the Dashboard, which keeps its last valid settings and never raises.

Each row of ``CASES`` is entered through the API; rows with a widget entry are also typed into
one shared Dashboard, kernel-side, as a student would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from psychrnn_widgets.engine import Curriculum, NetworkConfig, Stage, TrainingConfig
from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import PerceptualDiscrimination, get_task
from reliability_helpers import wait_until

NAN = float("nan")
INF = float("inf")
NET = {"N_in": 3, "N_rec": 8, "N_out": 2}


@dataclass(frozen=True)
class Case:
    """One invalid value: where it goes, the field, the value and how the message shows it."""

    layer: str  # "task:<name>", "network", "mask", "training", "stage" or "curriculum"
    field: str
    value: Any
    shown: str  # text of the value that the message must contain
    widget: str | None = None  # "form", "panel" or "curriculum": typed into the Dashboard
    typed: Any = None  # what the user types when it differs from ``value``

    def __str__(self) -> str:
        return f"{self.layer}-{self.field}-{self.shown}"


PD = "task:perceptual_discrimination"
CASES = [
    # Task parameters
    Case(PD, "tau", 5.0, "tau=5 ms", "form"),
    Case(PD, "dt", 0.0, "dt=0 ms", "form"),
    Case(PD, "dt", -10.0, "dt=-10 ms", "form"),
    Case(PD, "T", 15.0, "T=15 ms", "form"),
    Case(PD, "T", NAN, "T=nan ms"),
    Case(PD, "T", INF, "T=inf ms"),
    Case(PD, "N_batch", 0, "N_batch=0", "form"),
    Case(PD, "N_batch", 200_000, "N_batch=200000", "form"),
    Case(PD, "N_batch", 2.5, "N_batch=2.5"),
    Case(PD, "N_batch", "50", "N_batch='50'"),
    Case(PD, "N_batch", True, "N_batch=True"),
    Case(PD, "coherence", 1.5, "coherence=1.5"),
    Case(PD, "coherence", -0.1, "coherence=-0.1"),
    Case(PD, "coherence_levels", [], "coherence_levels=[]", "form", ""),
    Case(PD, "coherence_levels", [0.1, 2.0], "coherence_levels=[0.1, 2]", "form", "0.1, 2"),
    Case(PD, "coherence_levels", [0.1, NAN], "coherence_levels=[0.1, nan]"),
    Case(PD, "direction", 2, "direction=2"),
    Case(PD, "psychrnn_compat", "yes", "psychrnn_compat='yes'"),
    Case(PD, "coherance", 0.3, "'coherance'"),
    Case("task:go_no_go", "go_probability", 1.2, "go_probability=1.2"),
    Case("task:flip_flop", "N_bits", 0, "N_bits=0"),
    Case("task:ready_set_go", "gain", 0.0, "gain=0"),
    Case("task:ready_set_go", "intervals", "500", "intervals='500'"),
    Case("task:delayed_match_to_sample", "N_stimuli", 1, "N_stimuli=1"),
    Case("task:delayed_discrimination", "delay_duration", -100.0, "delay_duration=-100 ms"),
    Case("task:context_dependent_integration", "context", "sound", "'sound'"),
    # Network settings
    Case("network", "N_rec", 0, "N_rec=0"),
    Case("network", "N_rec", 2.5, "2.5"),
    Case("network", "N_in", "3", "'3'"),
    Case("network", "N_out", True, "True"),
    Case("network", "tau", 5.0, "tau=5 ms", "panel"),
    Case("network", "tau", -100.0, "tau=-100 ms", "panel"),
    Case("network", "tau", np.full(8, 100.0)[:7], "shape (7,)"),
    Case("network", "rec_noise", -0.1, "rec_noise=-0.1", "panel"),
    Case("network", "rec_noise", NAN, "rec_noise=nan"),
    Case("network", "transfer_function", "relux", "'relux'"),
    Case("network", "dale_ratio", 1.5, "dale_ratio=1.5"),
    Case("network", "dale_ratio", -0.2, "dale_ratio=-0.2"),
    Case("network", "autapses", "no", "'no'"),
    Case("network", "initializer", "orthogonal", "'orthogonal'"),
    Case("network", "spec_rad", 0.0, "spec_rad=0"),
    Case("network", "model", "transformer", "'transformer'"),
    Case("network", "seed", -1, "-1", "panel"),
    Case("network", "seed", 1.5, "1.5"),
    Case("network", "dtype", "float16", "'float16'"),
    Case("network", "dale_out_inhibitory", 0.5, "0.5"),
    Case("network", "W_in_train", 1, "1"),
    Case("network", "N_recc", 8, "'N_recc'"),
    Case("network", "initial_weights", 42, "int"),
    # Masks
    Case("mask", "rec_connectivity", np.ones((8, 7)), "shape (8, 7)"),
    Case("mask", "rec_connectivity", np.ones(8), "shape (8,)"),
    Case("mask", "input_connectivity", np.ones((3, 8)), "shape (3, 8)"),
    Case("mask", "rec_connectivity", -np.ones((8, 8)), "minimum -1"),
    Case("mask", "output_connectivity", [["a"] * 8] * 2, "<U1"),
    # Training settings
    Case("training", "learning_rate", 0.0, "learning_rate=0", "panel"),
    Case("training", "learning_rate", -1e-3, "learning_rate=-0.001", "panel"),
    Case("training", "learning_rate", INF, "learning_rate=inf"),
    Case("training", "learning_rate", "fast", "learning_rate='fast'"),
    Case("training", "optimizer", "adam", "optimizer='adam'"),
    Case("training", "clip", "norm", "clip='norm'"),
    Case("training", "clip_norm", 0.0, "clip_norm=0"),
    Case("training", "loss", "mae", "loss='mae'"),
    Case("training", "loss_normalization", "trials", "loss_normalization='trials'"),
    Case("training", "L2_rec", -1.0, "L2_rec=-1"),
    Case("training", "L1_in", NAN, "L1_in=nan"),
    Case("training", "custom_regularization", 3, "custom_regularization=3"),
    Case("training", "fixed_weights", {"W_rec": np.full((8, 8), 0.5)}, "0.5"),
    Case("training", "max_updates", 0, "max_updates=0"),
    Case("training", "max_trials", -5, "max_trials=-5"),
    Case("training", "performance_cutoff", 1.5, "performance_cutoff=1.5"),
    Case("training", "eval_every", 0, "eval_every=0"),
    Case("training", "updates_per_call", 0, "updates_per_call=0"),
    Case("training", "seed", -3, "seed=-3"),
    # Curriculum stages
    Case("stage", "threshold", NAN, "threshold=nan", "curriculum"),
    Case("stage", "threshold", "high", "threshold='high'"),
    Case("stage", "metric", "accuracy", "metric='accuracy'"),
    Case("stage", "metric", 5, "metric=5"),
    Case("curriculum", "stages", [], "stages=[]"),
    Case("curriculum", "metric_epoch", 0, "metric_epoch=0"),
]


def enter_through_api(case: Case) -> None:
    if case.layer.startswith("task:"):
        get_task(case.layer[5:], **{case.field: case.value})
    elif case.layer in ("network", "mask"):
        NetworkConfig(**{**NET, case.field: case.value})
    elif case.layer == "training":
        TrainingConfig(**{case.field: case.value})
    elif case.layer == "stage":
        Stage(PerceptualDiscrimination(), **{case.field: case.value})
    else:
        Curriculum(**{"stages": [PerceptualDiscrimination()], case.field: case.value})


def test_table_is_large_enough():
    assert len(CASES) >= 40
    assert {case.layer.split(":")[0] for case in CASES} == {
        "task", "network", "mask", "training", "stage", "curriculum"
    }
    assert sum(case.widget is not None for case in CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=str)
def test_api_error_names_field_and_value(case):
    with pytest.raises(InvalidParameterError) as caught:
        enter_through_api(case)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.field == case.field
    assert case.field in str(error)
    assert case.shown in str(error)


def test_unknown_training_setting_named():
    # NetworkConfig and tasks name a misspelt field; TrainingConfig's constructor should too.
    with pytest.raises(InvalidParameterError, match="'learnin_rate'; did you mean 'learning_rate'"):
        TrainingConfig(learnin_rate=0.1)


def test_non_finite_mask_message_value():
    with pytest.raises(InvalidParameterError) as caught:
        NetworkConfig(**NET, rec_connectivity=np.full((8, 8), NAN))
    assert "nan" in str(caught.value)


# Through the widgets, kernel-side

@pytest.fixture(scope="module")
def dashboard():
    from psychrnn_widgets.widgets.dashboard import Dashboard

    task = PerceptualDiscrimination(T=400.0, N_batch=16)
    board = Dashboard(task, NetworkConfig.for_task(task, N_rec=8, seed=3), max_updates=5,
                      refresh_interval=0.1, heldout_trials=16)
    board.curriculum_editor.add_stage({"coherence_levels": [0.5]}, threshold=0.8)
    yield board
    board.close()


def snapshot(board) -> dict[str, Any]:
    return {
        "task": board.task_form.task,
        "config": board.network_panel.config,
        "training": board.network_panel.training_config,
        "stages": list(board.curriculum_editor.stages),
        "network": board.network,
    }


@pytest.mark.parametrize("case", [c for c in CASES if c.widget], ids=str)
def test_widget_shows_message_keeps_value(dashboard, case):
    before = snapshot(dashboard)
    typed = case.value if case.typed is None else case.typed
    if case.widget == "curriculum":
        assert dashboard.curriculum_editor.edit_stage(0, threshold=typed) is False
        message = dashboard.curriculum_editor.errors.pop(0)
    else:
        owner = dashboard.task_form if case.widget == "form" else dashboard.network_panel
        field = owner.fields[case.field]
        kept = field.value
        field.control.value = typed  # as if typed: the control's observer validates it
        message = field.error
        assert field.value == kept
        assert field.error_label.layout.display is None
        field.show(kept)
        field.error = ""
    assert case.field in message
    assert case.shown in message
    after = snapshot(dashboard)
    for name, value in before.items():
        assert after[name] is value or after[name] == value, name
    assert dashboard.status.level != "error", dashboard.status.message


def test_dashboard_trains_after_bad_input(dashboard):
    dashboard.train()
    assert wait_until(lambda: dashboard.trainer.state == "finished", timeout=120)
    assert dashboard.trainer.updates == 5
    assert all(math.isfinite(loss) for loss in dashboard.trainer.history.loss)
