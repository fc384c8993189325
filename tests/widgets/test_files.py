import base64
import re

import numpy as np
import pytest

from tests.widgets.conftest import wait_until

pytestmark = pytest.mark.slow


def weights_equal(a, b):
    return sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_save_load_round_trip(make_dashboard, tmp_path):
    dashboard = make_dashboard(N_rec=6)
    dashboard.controls.max_updates = 3
    dashboard.controls.buttons["Train"].click()
    assert wait_until(lambda: dashboard.trainer.state == "finished", 60)
    saved = dashboard.network.get_weights()
    path = tmp_path / "trained.npz"
    dashboard.controls.save_path.value = str(path)
    dashboard.controls.save_button.click()
    assert dashboard.status.message == f"Network saved to {path}; the download link is ready."
    assert path.exists()
    link = dashboard.controls.download.value
    encoded = re.search(r"base64,([A-Za-z0-9+/=]+)", link).group(1)
    assert base64.b64decode(encoded) == path.read_bytes()
    assert 'download="trained.npz"' in link

    dashboard.controls.buttons["Reset"].click()
    assert not weights_equal(dashboard.network.get_weights(), saved)
    dashboard.controls.load_button.click()
    assert dashboard.status.message == f"Network loaded from {path}."
    assert weights_equal(dashboard.network.get_weights(), saved)
    assert dashboard.trainer is None
    assert dashboard.live.loss_chart.points == 0


def test_upload_loads_network(make_dashboard, tmp_path):
    dashboard = make_dashboard(N_rec=5)
    dashboard.mask_editor.toggle(0, 1)
    data = dashboard.save(None)
    saved = dashboard.network.get_weights()
    dashboard.network_panel.set_value("N_rec", 7)
    assert dashboard.network.config.N_rec == 7
    dashboard.controls.upload.set_state({"value": [{"name": "mine.npz", "type": "", "size": len(data),
                                                     "last_modified": 0, "content": data}]})
    assert dashboard.status.message == "Network loaded from mine.npz."
    assert dashboard.network.config.N_rec == 5
    assert dashboard.network_panel.fields["N_rec"].value == 5
    assert dashboard.mask_editor.masks["W_rec"][0, 1] == 0.0
    assert dashboard.mask_editor.masks["W_rec"].sum() == 24.0
    assert weights_equal(dashboard.network.get_weights(), saved)


def test_load_rejects_other_sizes(make_dashboard, tmp_path):
    from psychrnn_widgets.engine import NetworkConfig, build_network, save_network

    dashboard = make_dashboard(N_rec=5)
    other = build_network(NetworkConfig(N_in=3, N_rec=5, N_out=2))
    path = save_network(tmp_path / "other.npz", other)
    network = dashboard.network
    dashboard.controls.save_path.value = str(path)
    dashboard.controls.load_button.click()
    assert dashboard.status.level == "error"
    assert dashboard.status.message == (
        "Load: the network has N_in=3, N_out=2 but the task perceptual_discrimination has "
        "N_in=2, N_out=2")
    assert dashboard.network is network
