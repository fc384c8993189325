import math

import pytest

from psychrnn_widgets.engine import Curriculum, NetworkConfig
from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import PerceptualDiscrimination
from psychrnn_widgets.widgets.curriculum_editor import CurriculumEditor, parse_overrides
from psychrnn_widgets.widgets.network_panel import NETWORK_PARAMS, NetworkPanel


def make_panel():
    return NetworkPanel(NetworkConfig(N_in=2, N_rec=20, N_out=2))


def test_panel_has_every_network_field():
    panel = make_panel()
    assert list(panel.fields) == [p.name for p in NETWORK_PARAMS]
    assert panel.fields["N_rec"].value == 20
    assert panel.fields["dale_ratio"].none_toggle.description == "off"
    assert panel.fields["model"].control.options == (("rate", "rate"), ("lstm", "lstm"), ("gru", "gru"))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("tau", 5.0, "tau must be at least dt, so that alpha = dt/tau <= 1 (got tau=5 ms, dt=10 ms)"),
        ("N_rec", 0, "N_rec must be at least 1 (got N_rec=0)"),
        ("N_rec", 5000, "N_rec must be at most 1000 (got N_rec=5000)"),
        ("rec_noise", -0.1, "rec_noise must be at least 0 (got rec_noise=-0.1)"),
        ("learning_rate", 0.0, "learning_rate must be larger than 0 (got learning_rate=0)"),
        ("seed", -1, "seed must be at least 0 (got seed=-1)"),
    ],
)
def test_panel_invalid_value_keeps_config(name, value, message):
    panel = make_panel()
    before = panel.config
    training_before = panel.training_config
    assert panel.set_value(name, value) is False
    assert panel.fields[name].error == message
    assert panel.config is before
    assert panel.training_config is training_before


def test_panel_rule_across_fields():
    panel = make_panel()
    assert panel.set_value("dale_ratio", 0.8) is True
    assert panel.set_value("model", "lstm") is False
    assert panel.fields["model"].error == "dale_ratio applies only to model='rate' (got model='lstm')"
    assert panel.config.model == "rate"
    panel.fields["dale_ratio"].none_toggle.value = True
    assert panel.config.dale_ratio is None
    assert panel.set_value("model", "gru") is True
    assert panel.config.model == "gru"


def test_panel_valid_changes():
    panel = make_panel()
    assert panel.set_value("N_rec", 64) is True
    assert panel.set_value("transfer_function", "tanh") is True
    assert panel.set_value("learning_rate", 0.01) is True
    assert panel.config.N_rec == 64
    assert panel.config.transfer_function == "tanh"
    assert panel.training_config.learning_rate == 0.01


def test_parse_overrides():
    assert parse_overrides("coherence=0.7, coherence_levels=[0.5, 0.7]") == {
        "coherence": 0.7, "coherence_levels": [0.5, 0.7]}
    assert parse_overrides("  ") == {}
    with pytest.raises(InvalidParameterError, match="overrides must read name=value"):
        parse_overrides("0.7")
    with pytest.raises(InvalidParameterError, match="overrides must read name=value"):
        parse_overrides("coherence=open('x')")


def test_curriculum_add_edit_move_remove():
    editor = CurriculumEditor(PerceptualDiscrimination())
    editor.add_stage({"coherence": 0.7}, threshold=0.8)
    editor.add_button.click()
    assert editor.stages == [
        {"overrides": {"coherence": 0.7}, "threshold": 0.8},
        {"overrides": {"coherence": 0.7}, "threshold": 0.9},
    ]
    overrides = editor.rows.children[1].children[0].children[1]
    overrides.value = "coherence=0.3"
    assert editor.stages[1]["overrides"] == {"coherence": 0.3}
    editor.rows.children[1].children[0].children[3].click()  # up
    assert [s["overrides"]["coherence"] for s in editor.stages] == [0.3, 0.7]
    editor.rows.children[1].children[0].children[5].click()  # remove
    assert editor.stages == [{"overrides": {"coherence": 0.3}, "threshold": 0.9}]
    assert len(editor.rows.children) == 1


def test_curriculum_invalid_edit_shows_message():
    editor = CurriculumEditor(PerceptualDiscrimination())
    editor.add_stage({"coherence": 0.7})
    row = editor.rows.children[0]
    row.children[0].children[1].value = "coherence=2"
    assert editor.errors == {0: "coherence must be at most 1 (got coherence=2)"}
    assert row.children[1].value == "coherence must be at most 1 (got coherence=2)"
    assert row.children[1].layout.display is None
    assert editor.stages[0]["overrides"] == {"coherence": 0.7}
    row.children[0].children[1].value = "cohrence=0.5"
    assert editor.errors[0].startswith("unknown PerceptualDiscrimination parameter 'cohrence'")
    with pytest.raises(InvalidParameterError, match=r"threshold must be between 0 and 1 \(got threshold=1.5\)"):
        editor.add_stage({}, threshold=1.5)


def test_curriculum_builds_engine_curriculum():
    editor = CurriculumEditor(PerceptualDiscrimination())
    editor.add_stage({"coherence": 0.7}, threshold=0.8)
    editor.add_stage({"coherence": 0.2}, threshold=0.9)
    assert editor.build() is None
    editor.enabled = True
    editor.metric_epoch = 5
    curriculum = editor.build()
    assert isinstance(curriculum, Curriculum)
    assert len(curriculum) == 2
    assert curriculum.metric_epoch == 5
    assert [s.task.coherence for s in curriculum.stages] == [0.7, 0.2]
    assert [s.threshold for s in curriculum.stages] == [0.8, 0.9]
    assert [s.name for s in curriculum.stages] == ["Stage 1", "Stage 2"]


def test_curriculum_shows_current_stage():
    editor = CurriculumEditor(PerceptualDiscrimination())
    editor.add_stage({"coherence": 0.7}, threshold=0.8)
    editor.add_stage({"coherence": 0.2}, threshold=0.9)
    editor.current_stage = 1
    assert editor.current_label.value == "Stage 2 of 2: metric not measured yet, threshold 0.9"
    editor.metric = 0.42
    assert editor.current_label.value == "Stage 2 of 2: metric 0.42, threshold 0.9"
    assert "prw-stage-current" in editor.rows.children[1]._dom_classes
    editor.current_stage = 2
    assert editor.current_label.value == "Curriculum finished"
    assert math.isclose(editor.metric, 0.42)
