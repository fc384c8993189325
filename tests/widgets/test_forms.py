import ipywidgets as widgets
import pytest

from psychrnn_widgets.tasks import TASKS, PerceptualDiscrimination, get_task
from psychrnn_widgets.widgets.fields import ParamField, parse_float_list
from psychrnn_widgets.widgets.forms import TaskForm


def expected_control(param):
    bounded = param.minimum is not None and param.maximum is not None
    if param.kind == "bool":
        return widgets.Checkbox
    if param.kind == "choice":
        return widgets.Dropdown
    if param.kind == "float_list":
        return widgets.Text
    if param.kind == "int":
        small = bounded and param.maximum - param.minimum <= 1000
        return widgets.IntSlider if small else widgets.IntText
    return widgets.FloatSlider if bounded else widgets.FloatText


@pytest.mark.parametrize("name", sorted(TASKS))
def test_form_for_every_registered_task(name):
    task = get_task(name)
    form = TaskForm(task)
    params = type(task).params
    assert list(form.fields) == [p.name for p in params]
    for param in params:
        field = form.fields[param.name]
        assert type(field.control) is expected_control(param), param.name
        assert (field.none_toggle is not None) == param.allow_none
        assert field.value == getattr(task, param.name)
        assert param.help in field.help.value or param.help.replace("'", "&#x27;") in field.help.value
    assert form.preview.shown == min(3, task.N_batch)
    assert form.preview_seconds < 0.2
    assert form.errors == {}


def test_task_selector_switches_task():
    form = TaskForm()
    other = sorted(n for n in TASKS if n != "perceptual_discrimination")[0]
    form.selector.value = other
    assert form.task.name == other
    assert list(form.fields) == [p.name for p in TASKS[other].params]


INVALID = [
    ("tau", 5.0, "tau must be larger than dt (got tau=5 ms, dt=10 ms)"),
    ("T", 15.0, "T must be a multiple of dt (got T=15 ms, dt=10 ms)"),
    ("T", 0.0, "T must be larger than 0 ms (got T=0 ms)"),
    ("T", 70.0, "T must be at least 8 * dt so the decision period is never empty (got T=70 ms, dt=10 ms)"),
    ("dt", 0.0, "dt must be larger than 0 ms (got dt=0 ms)"),
    ("dt", 200.0, "tau must be larger than dt (got tau=100 ms, dt=200 ms)"),
    ("N_batch", 0, "N_batch must be at least 1 (got N_batch=0)"),
    ("N_batch", 200000, "N_batch must be at most 100000 (got N_batch=200000)"),
    ("coherence_levels", "0.1, 2", "coherence_levels must be at most 1 (got coherence_levels=[0.1, 2])"),
    ("coherence_levels", "", "coherence_levels must contain at least one value (got coherence_levels=[])"),
    ("coherence_levels", "0.1, x",
     "coherence_levels must be numbers separated by commas (got coherence_levels='0.1, x')"),
]


@pytest.mark.parametrize(("name", "typed", "message"), INVALID)
def test_invalid_value_shows_message_and_keeps_task(name, typed, message):
    form = TaskForm(PerceptualDiscrimination())
    before = form.task
    form.fields[name].control.value = typed
    field = form.fields[name]
    assert field.error == message
    assert field.error_label.value == message.replace("'", "&#x27;")
    assert field.error_label.layout.display is None
    assert form.task is before
    assert field.value == getattr(before, name)


def test_valid_value_clears_error_and_redraws_preview():
    form = TaskForm(PerceptualDiscrimination())
    revision = form.preview.revision
    form.fields["T"].control.value = 15.0
    assert form.errors == {"T": "T must be a multiple of dt (got T=15 ms, dt=10 ms)"}
    form.fields["T"].control.value = 1000.0
    assert form.errors == {}
    assert form.fields["T"].error_label.layout.display == "none"
    assert form.task.T == 1000.0
    assert form.preview.revision == revision + 1
    assert form.preview.panels[0]["inputs"].x[-1] == 990.0
    assert form.preview_seconds < 0.2


def test_random_per_trial_toggle():
    form = TaskForm(PerceptualDiscrimination())
    field = form.fields["coherence"]
    assert form.task.coherence is None
    assert field.control.disabled
    field.none_toggle.value = False
    assert form.task.coherence == field.control.value == 0.5
    field.control.value = 0.2
    assert form.task.coherence == 0.2
    field.none_toggle.value = True
    assert form.task.coherence is None


def test_set_value_uses_same_validation():
    form = TaskForm(PerceptualDiscrimination())
    assert form.set_value("stim_noise", 0.3) is True
    assert form.task.stim_noise == 0.3
    assert form.set_value("stim_noise", 20.0) is False
    assert form.errors == {"stim_noise": "stim_noise must be at most 10 (got stim_noise=20)"}
    assert form.task.stim_noise == 0.3


def test_field_alone_validates_with_param():
    param = PerceptualDiscrimination.param_specs()["direction"]
    field = ParamField(param, None)
    field.none_toggle.value = False
    assert field.value == 0
    field.control.value = 1
    assert field.value == 1


def test_parse_float_list():
    assert parse_float_list("x", "0.1, 0.2 0.3") == [0.1, 0.2, 0.3]
    assert parse_float_list("x", "") == []
