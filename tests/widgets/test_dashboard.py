import threading
import time

import numpy as np
import pytest

from psychrnn_widgets.engine import Trainer
from tests.widgets.conftest import wait_until

pytestmark = pytest.mark.slow


def click(dashboard, label):
    dashboard.controls.buttons[label].click()


def grid_click(editor, row, column):
    editor.grid._handle_custom_msgs(
        None, {"event": "element_click", "data": {"rowNum": row, "columnNum": column}}
    )


def trainer_threads():
    return [t for t in threading.enumerate() if t.name == "psychrnn-widgets-trainer" and t.is_alive()]


def test_default_dashboard_starts_on_embedded_task():
    from psychrnn_widgets.widgets import Dashboard

    dashboard = Dashboard()
    try:
        assert dashboard.task_form.task.name == "perceptual_discrimination"
        assert dashboard.network.config.N_rec == 50
        assert dashboard.network.config.model == "rate"
        assert dashboard.controls.enabled == {"Train", "Step", "Reset"}
        assert dashboard.live.weights.shape == (50, 50)
        assert dashboard.live.traces.shown == 3
        assert dashboard.live.psychometric.available is True
        assert dashboard.status.message == ""
    finally:
        dashboard.close()


def test_train_pause_step_resume_stop(make_dashboard):
    dashboard = make_dashboard()
    click(dashboard, "Train")
    assert wait_until(lambda: dashboard.trainer.updates >= 3, 60)
    assert wait_until(lambda: dashboard.controls.state == "running", 2)
    assert dashboard.controls.enabled == {"Pause", "Stop"}

    started = time.monotonic()
    click(dashboard, "Pause")
    assert wait_until(lambda: dashboard.trainer.state == "paused", 0.5)
    assert time.monotonic() - started < 0.5
    assert wait_until(lambda: dashboard.controls.state == "paused", 1)
    assert dashboard.controls.enabled == {"Train", "Step", "Stop", "Reset"}
    paused_at = dashboard.trainer.updates
    time.sleep(0.3)
    assert dashboard.trainer.updates == paused_at
    assert wait_until(lambda: dashboard.status.message == f"Paused after {paused_at} updates.", 1)

    click(dashboard, "Step")
    assert wait_until(lambda: dashboard.trainer.updates == paused_at + 1, 5)
    time.sleep(0.3)
    assert dashboard.trainer.updates == paused_at + 1
    assert dashboard.trainer.state == "paused"

    click(dashboard, "Train")
    assert wait_until(lambda: dashboard.trainer.updates > paused_at + 3, 10)
    assert wait_until(lambda: dashboard.controls.state == "running", 1)

    started = time.monotonic()
    click(dashboard, "Stop")
    assert wait_until(lambda: dashboard.trainer.state == "stopped", 0.5)
    assert time.monotonic() - started < 0.5
    assert wait_until(lambda: dashboard.controls.state == "stopped", 1)
    assert dashboard.controls.enabled == {"Train", "Step", "Reset"}
    assert wait_until(lambda: dashboard.state == "stopped", 1)
    assert wait_until(lambda: dashboard.status.message == "Training stopped.", 1)


def test_step_from_idle_does_one_update(make_dashboard):
    dashboard = make_dashboard()
    click(dashboard, "Step")
    assert wait_until(lambda: dashboard.trainer is not None, 5)
    assert wait_until(lambda: dashboard.trainer.updates == 1, 60)
    assert wait_until(lambda: dashboard.controls.state == "paused", 2)
    assert wait_until(lambda: dashboard.live.loss_chart.points == 1, 2)


def test_chart_data_grows_while_training(make_dashboard):
    dashboard = make_dashboard()
    click(dashboard, "Train")
    assert wait_until(lambda: dashboard.live.loss_chart.points >= 5, 60)
    points = dashboard.live.loss_chart.points
    refreshes = dashboard.live.trace_refreshes
    weights_before = np.array(dashboard.live.weights.mark.color)
    assert wait_until(lambda: dashboard.live.loss_chart.points > points + 5, 10)
    assert wait_until(lambda: dashboard.live.trace_refreshes > refreshes, 5)
    assert wait_until(lambda: dashboard.live.accuracy_chart.points >= 1, 10)
    assert not np.array_equal(dashboard.live.weights.mark.color, weights_before)
    click(dashboard, "Stop")
    dashboard.trainer.join(5)
    dashboard.refresh()
    history = dashboard.trainer.history
    assert dashboard.live.loss_chart.points == len(history)
    np.testing.assert_allclose(dashboard.live.loss_chart.line.y, history.loss)
    np.testing.assert_array_equal(dashboard.live.loss_chart.line.x, history.trials)
    assert dashboard.controls.trials == history.trials[-1]
    live = dashboard.live
    outputs, _ = dashboard.network.run(live.heldout.inputs, seed=0)
    curve = live.heldout_task.psychometric(outputs, live.heldout)
    np.testing.assert_array_equal(live.psychometric.line.x, curve.levels)
    np.testing.assert_array_equal(live.psychometric.line.y, curve.choice_fraction)
    np.testing.assert_allclose(live.traces.panels[0]["outputs"].y, outputs[0].T)


def test_curriculum_advances(make_dashboard):
    dashboard = make_dashboard()
    editor = dashboard.curriculum_editor
    editor.metric_epoch = 2
    editor.add_stage({"coherence": 0.7}, threshold=0.0)
    editor.add_stage({"coherence": 0.3}, threshold=1.0)
    editor.enabled = True
    click(dashboard, "Train")
    assert wait_until(lambda: editor.current_stage == 1, 60)
    assert wait_until(lambda: len(dashboard.live.stage_changes) == 1, 5)
    assert dashboard.trainer.curriculum.stages[0].task.coherence == 0.7
    assert "prw-stage-current" in editor.rows.children[1]._dom_classes
    assert "prw-stage-current" not in editor.rows.children[0]._dom_classes
    assert editor.current_label.value.startswith("Stage 2 of 2: metric")
    assert wait_until(lambda: len(np.atleast_1d(dashboard.live.loss_chart.stages.x)) == 2, 5)
    click(dashboard, "Stop")


def test_mask_click_changes_network_mask(make_dashboard):
    dashboard = make_dashboard(N_rec=6)
    grid_click(dashboard.mask_editor, 1, 4)
    config = dashboard.network.config
    assert config.rec_connectivity[1, 4] == 0.0
    assert config.rec_connectivity.sum() == 35.0
    assert dashboard.network.effective_weights()["W_rec"][1, 4] == 0.0
    assert dashboard.status.message == "Connectivity changed: network rebuilt."
    dashboard.mask_editor.matrix = "W_in"
    grid_click(dashboard.mask_editor, 2, 1)
    assert dashboard.network.config.input_connectivity[2, 1] == 0.0
    assert dashboard.network.effective_weights()["W_in"][2, 1] == 0.0


def test_fixed_weights_stay_fixed(make_dashboard):
    dashboard = make_dashboard(N_rec=6)
    dashboard.mask_editor.layer = "fixed"
    grid_click(dashboard.mask_editor, 0, 0)
    before = dashboard.network.get_weights()["W_rec"].copy()
    dashboard.controls.max_updates = 5
    click(dashboard, "Train")
    assert dashboard.trainer is not None
    assert wait_until(lambda: dashboard.trainer.state == "finished", 60)
    after = dashboard.network.get_weights()["W_rec"]
    assert after[0, 0] == before[0, 0]
    assert not np.array_equal(after, before)


def test_settings_after_training_wait_for_reset(make_dashboard):
    dashboard = make_dashboard(N_rec=6)
    dashboard.controls.max_updates = 3
    click(dashboard, "Train")
    assert dashboard.trainer is not None
    assert wait_until(lambda: dashboard.trainer.state == "finished", 60)
    network = dashboard.network
    assert dashboard.network_panel.set_value("N_rec", 9) is True
    assert dashboard.network is network
    assert dashboard.status.message == "Network changed: press Reset to rebuild the network with it."
    click(dashboard, "Reset")
    assert dashboard.network is not network
    assert dashboard.network.config.N_rec == 9
    assert dashboard.mask_editor.masks["W_rec"].shape == (9, 9)
    assert dashboard.trainer is None
    assert dashboard.live.loss_chart.points == 0
    assert dashboard.controls.state == "idle"
    assert dashboard.live.weights.shape == (9, 9)
    assert dashboard.controls.progress.value == 0.0
    assert dashboard.controls.throughput.value == "0 / 0 trials"


def test_network_panel_rebuilds_untrained_network(make_dashboard):
    dashboard = make_dashboard(N_rec=6)
    assert dashboard.network_panel.set_value("dale_ratio", 0.5) is True
    assert dashboard.network.config.dale_ratio == 0.5
    assert dashboard.mask_editor.dale_ratio == 0.5
    assert dashboard.network_panel.set_value("tau", 5.0) is False
    assert dashboard.network_panel.fields["tau"].error == (
        "tau must be at least dt, so that alpha = dt/tau <= 1 (got tau=5 ms, dt=10 ms)")
    assert dashboard.network.config.tau == 100.0


def test_task_change_updates_sizes_and_heldout(make_dashboard):
    dashboard = make_dashboard(N_rec=6)
    assert dashboard.task_form.set_value("T", 600.0) is True
    assert dashboard.live.heldout.inputs.shape == (32, 60, 2)
    assert dashboard.curriculum_editor.task.T == 600.0
    assert dashboard.live.traces.panels[0]["inputs"].x[-1] == 590.0


def test_callback_errors_leave_dashboard_usable(make_dashboard, capsys):
    dashboard = make_dashboard(N_rec=6)
    dashboard.controls.save_path.value = "/nonexistent/folder/net.npz"
    dashboard.controls.load_button.click()
    assert dashboard.status.level == "error"
    assert dashboard.status.message == "Load: weight file '/nonexistent/folder/net.npz' not found"
    dashboard.controls.upload.set_state({"value": [{"name": "bad.npz", "type": "", "size": 3,
                                                     "last_modified": 0, "content": b"abc"}]})
    assert dashboard.status.level == "error"
    assert dashboard.status.message == (
        "Upload: weight file 'bad.npz' is unreadable or truncated (File is not a zip file)")

    def broken(event):
        raise RuntimeError("chart callback broke")

    dashboard.controls.max_updates = 4
    click(dashboard, "Train")
    dashboard.trainer.add_callback(broken)
    assert wait_until(lambda: dashboard.trainer.state == "finished", 60)
    assert wait_until(lambda: dashboard.controls.state == "finished", 2)
    assert dashboard.trainer.updates == 4
    assert dashboard.live.loss_chart.points == 4
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "chart callback broke" not in captured.err


def test_rapid_clicks_leave_consistent_state(make_dashboard):
    dashboard = make_dashboard(N_rec=6)
    for _ in range(5):
        click(dashboard, "Train")
    for label in ("Pause", "Train", "Pause", "Step", "Step", "Train", "Stop", "Stop", "Train",
                  "Pause", "Stop", "Reset", "Train", "Stop"):
        click(dashboard, label)
    # The last Train compiles a new update function; Stop takes effect after that first call.
    assert wait_until(lambda: dashboard.trainer is None or dashboard.trainer.state not in ("running", "paused"), 60)
    time.sleep(0.3)
    assert len(trainer_threads()) == 0
    state = dashboard.trainer.state if dashboard.trainer else "idle"
    assert wait_until(lambda: dashboard.controls.state == state, 2)
    assert dashboard.state == state
    assert dashboard.status.level != "error"
    if dashboard.trainer is not None:
        assert isinstance(dashboard.trainer, Trainer)
        assert dashboard.live.loss_chart.points == len(dashboard.trainer.history)


@pytest.mark.parametrize(("model", "title"), [("lstm", "W_c, recurrent part"), ("gru", "W_h, recurrent part")])
def test_gated_models_train_from_dashboard(make_dashboard, model, title):
    dashboard = make_dashboard(N_rec=6)
    assert dashboard.network_panel.set_value("model", model) is True
    assert type(dashboard.network).__name__ == model.upper()
    name = title.split(",")[0]
    expected = dashboard.network.effective_weights()[name][2:, :].T
    np.testing.assert_array_equal(dashboard.live.weights.mark.color, expected)
    assert dashboard.live.weights.figure.title.startswith(title)
    dashboard.controls.max_updates = 3
    click(dashboard, "Train")
    assert wait_until(lambda: dashboard.trainer.state == "finished", 60)
    assert wait_until(lambda: dashboard.live.loss_chart.points == 3, 2)


def test_mask_clicks_are_batched_into_one_rebuild(make_dashboard):
    dashboard = make_dashboard(N_rec=30)
    before = dashboard._network
    started = time.perf_counter()
    for column in range(10):
        grid_click(dashboard.mask_editor, 0, column)
    assert time.perf_counter() - started < 0.5
    assert dashboard.status.message == "Connectivity changed: rebuilding the network…"
    assert wait_until(lambda: dashboard.status.message == "Connectivity changed: network rebuilt.", 10)
    rebuilt = dashboard._network
    assert rebuilt is not before
    assert rebuilt.config.rec_connectivity[0, :10].sum() == 0.0
    assert rebuilt.config.rec_connectivity.sum() == 890.0
    assert wait_until(lambda: float(np.abs(dashboard.live.weights.mark.color[0, :10]).sum()) == 0.0, 5)


def test_train_right_after_mask_click(make_dashboard):
    dashboard = make_dashboard(N_rec=6)
    dashboard.controls.max_updates = 2
    grid_click(dashboard.mask_editor, 2, 3)
    click(dashboard, "Train")
    assert wait_until(lambda: dashboard.trainer is not None, 5)
    assert wait_until(lambda: dashboard.trainer.state == "finished", 60)
    assert dashboard.trainer.network is dashboard.network
    assert dashboard.network.config.rec_connectivity[2, 3] == 0.0
    assert dashboard.network.effective_weights()["W_rec"][2, 3] == 0.0


def test_task_switch_after_training(make_dashboard):
    dashboard = make_dashboard(N_rec=6)
    dashboard.controls.max_updates = 2
    click(dashboard, "Train")
    assert wait_until(lambda: dashboard.trainer.state == "finished", 60)
    trained = dashboard.network
    dashboard.task_form.selector.value = "flip_flop"
    assert dashboard.task_form.task.name == "flip_flop"
    assert dashboard.network is trained
    assert dashboard.status.message == "Task size changed: press Reset to rebuild the network with it."
    dashboard.refresh()
    assert dashboard.status.level == "info"
    click(dashboard, "Reset")
    assert (dashboard.network.config.N_in, dashboard.network.config.N_out) == (3, 3)
    assert dashboard.mask_editor.masks["W_in"].shape == (6, 3)
    assert dashboard.live.psychometric.available is False
    dashboard.task_form.set_value("N_batch", 8)
    click(dashboard, "Train")
    assert wait_until(lambda: dashboard.trainer.state == "finished", 60)
    assert dashboard.trainer.trials == 16
