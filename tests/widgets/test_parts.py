import logging
import threading
import time
import types

import numpy as np
import pytest

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.widgets._guard import StatusLine, guarded
from psychrnn_widgets.widgets.charts import AccuracyChart, LossChart, PsychometricChart, WeightHeatmap
from psychrnn_widgets.widgets.controls import TrainingControls
from psychrnn_widgets.widgets.traces import TraceChart
from psychrnn_widgets.widgets.updater import EventBuffer, ThrottledUpdater


class Owner:
    def __init__(self):
        self.status = StatusLine()

    @guarded("Do thing")
    def bad_input(self):
        raise InvalidParameterError("tau", "tau must be positive (got tau=-1 ms)")

    @guarded("Do thing")
    def crash(self):
        raise KeyError("boom")


def test_guard_shows_package_error(caplog):
    owner = Owner()
    assert owner.bad_input() is None
    assert owner.status.message == "Do thing: tau must be positive (got tau=-1 ms)"
    assert owner.status.level == "error"


def test_guard_logs_unexpected_error(caplog, capsys):
    owner = Owner()
    with caplog.at_level(logging.ERROR, logger="psychrnn_widgets.widgets"):
        owner.crash()
    assert owner.status.message == "Do thing failed: KeyError: 'boom'"
    assert "Do thing failed" in caplog.text
    assert "Traceback" in caplog.text
    assert capsys.readouterr().err == ""


def test_updater_counts_changing_ticks():
    updater = ThrottledUpdater(interval=0.05)
    calls = []
    updater.add_job(lambda: calls.append(1) or len(calls) % 2 == 0)
    updater.start()
    time.sleep(0.5)
    updater.stop()
    assert not updater.running
    assert 6 <= updater.ticks <= 12
    assert updater.updates == updater.ticks // 2


def test_updater_keeps_going_after_failing_job():
    updater = ThrottledUpdater(interval=0.05)
    seen = []
    updater.add_job(lambda: 1 / 0)
    updater.add_job(lambda: seen.append(1) or True)
    assert updater.tick() is True
    assert updater.tick() is True
    assert len(seen) == 2


def test_updater_rejects_bad_interval():
    with pytest.raises(ValueError, match=r"interval must be positive \(got interval=0 s\)"):
        ThrottledUpdater(interval=0)


def test_event_buffer_threads():
    buffer = EventBuffer()

    def produce():
        for i in range(1000):
            buffer.append(i)

    threads = [threading.Thread(target=produce) for _ in range(4)]
    for t in threads:
        t.start()
    drained = []
    while any(t.is_alive() for t in threads):
        drained += buffer.drain()
    for t in threads:
        t.join()
    drained += buffer.drain()
    assert len(drained) == 4000
    assert buffer.received == 4000


def test_loss_chart_drops_bad_values_and_marks_stages():
    chart = LossChart()
    chart.update([0, 10, 20, 30], [1.0, float("nan"), 0.5, 0.0], [(0, 0, 0), (2, 20, 1)])
    np.testing.assert_array_equal(chart.line.x, [0, 20])
    np.testing.assert_array_equal(chart.line.y, [1.0, 0.5])
    np.testing.assert_array_equal(chart.stages.x, [20, 20])
    np.testing.assert_allclose(chart.stages.y, [0.5 / 1.1, 1.1])
    assert chart.points == 2


def test_loss_chart_single_point_domain():
    chart = LossChart()
    chart.update([50], [0.25])
    assert chart._y_scale.min == pytest.approx(0.25 / 2**0.5)
    assert chart._y_scale.max == pytest.approx(0.25 * 2**0.5)
    assert len(chart._y_axis.tick_values) == 2


@pytest.mark.parametrize("chart_class", [LossChart, AccuracyChart])
def test_chart_single_point_x_domain(chart_class):
    # A zero-width x domain made bqplot's automatic tick format ".undefinedg" in the browser.
    chart = chart_class()
    chart.update([50], [0.25])
    assert chart._x_scale.min == 49.0
    assert chart._x_scale.max == 51.0

    chart.update([50, 100, 150], [0.25, 0.5, 0.75])
    assert chart._x_scale.min == 50.0
    assert chart._x_scale.max == 150.0


def test_loss_chart_log_ticks():
    chart = LossChart()
    chart.update([0, 1, 2], [0.3, 0.1, 0.03])
    np.testing.assert_allclose(chart._y_axis.tick_values, [0.05, 0.1, 0.2])
    chart.update([0, 1], [20.0, 1e-4])
    np.testing.assert_allclose(chart._y_axis.tick_values, [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0])


def test_accuracy_chart_skips_unevaluated():
    chart = AccuracyChart()
    chart.update([0, 1, 2], [float("nan"), 0.25, 0.75])
    np.testing.assert_array_equal(chart.line.y, [0.25, 0.75])


def test_weight_heatmap_symmetric_scale():
    chart = WeightHeatmap()
    weights = np.array([[0.5, -2.0, 0.0], [1.0, 0.0, 0.0]])
    chart.update(weights)
    assert chart.shape == (2, 3)
    assert chart.mark.color.tolist() == weights.tolist()
    assert (chart._color.min, chart._color.max) == (-2.0, 2.0)
    assert chart.figure.title == "W_rec, blue +2, red -2"


def test_psychometric_sorted_and_hidden():
    chart = PsychometricChart()
    chart.update("coherence", [0.2, -0.2, 0.0], [0.9, 0.2, 0.5])
    np.testing.assert_array_equal(chart.line.x, [-0.2, 0.0, 0.2])
    np.testing.assert_array_equal(chart.line.y, [0.2, 0.5, 0.9])
    assert chart._x_axis.label == "coherence"
    chart.available = False
    assert chart.layout.display == "none"


def test_trace_chart_draws_trials_and_periods():
    batch = types.SimpleNamespace(
        inputs=np.zeros((4, 50, 2)), targets=np.ones((4, 50, 1)), mask=np.ones((4, 50, 1)),
        dt=10.0, periods={"fixation": np.array([[0, 10]] * 4), "stimulus": np.array([[10, 30]] * 4)},
    )
    chart = TraceChart(n_trials=2)
    chart.update(batch, outputs=np.full((4, 50, 1), 0.5))
    assert chart.shown == 2
    marks = chart.panels[1]
    assert marks["inputs"].y.shape == (2, 50)
    assert marks["outputs"].y.tolist() == [0.5] * 50
    np.testing.assert_array_equal(marks["periods"].x[1], [100.0, 300.0, 300.0, 100.0, 100.0])
    assert marks["inputs"].x[-1] == 490.0


@pytest.mark.parametrize(
    ("state", "enabled"),
    [
        ("idle", {"Train", "Step", "Reset"}),
        ("running", {"Pause", "Stop"}),
        ("paused", {"Train", "Step", "Stop", "Reset"}),
        ("stopped", {"Train", "Step", "Reset"}),
        ("finished", {"Train", "Step", "Reset"}),
        ("failed", {"Train", "Step", "Reset"}),
    ],
)
def test_controls_buttons_follow_state(state, enabled):
    controls = TrainingControls()
    controls.state = state
    assert controls.enabled == enabled
    assert controls.save_button.disabled is (state == "running")


def test_controls_labels_and_progress():
    controls = TrainingControls()
    assert [b.description for b in controls.buttons.values()] == [
        "Train", "Pause", "Step", "Stop", "Reset"]
    controls.show_progress(1000, 5000, 400.0)
    assert controls.progress.value == 0.2
    assert controls.throughput.value == "1,000 / 5,000 trials, 400 trials/s, 0:10 left"


def test_updater_reports_each_error_once():
    messages = []
    updater = ThrottledUpdater(interval=0.05, on_error=messages.append)
    updater.add_job(lambda: 1 / 0)
    updater.tick()
    updater.tick()
    assert messages == ["Chart update failed: ZeroDivisionError: division by zero"]


def test_package_logger_has_null_handler():
    import psychrnn_widgets.widgets  # noqa: F401

    handlers = logging.getLogger("psychrnn_widgets").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
