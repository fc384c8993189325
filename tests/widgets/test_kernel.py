"""The Dashboard in a real Jupyter kernel: threads stream while a cell waits, nothing on stderr."""

import os
import tempfile

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

CELLS = [
    "import os\n"
    "os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'\n"
    "os.environ['TF_ENABLE_ONEDNN_OPTS'] = '0'\n"
    "from psychrnn_widgets.widgets import Dashboard\n"
    "from psychrnn_widgets.tasks import PerceptualDiscrimination\n"
    "from psychrnn_widgets.engine import NetworkConfig\n"
    "task = PerceptualDiscrimination(T=400.0, N_batch=16)\n"
    "dashboard = Dashboard(task, NetworkConfig.for_task(task, N_rec=8, seed=1), max_updates=40)\n"
    "dashboard",
    "import time\n"
    "dashboard.controls.buttons['Train'].click()\n"
    "deadline = time.monotonic() + 120\n"
    "while dashboard.controls.state != 'finished' and time.monotonic() < deadline:\n"
    "    time.sleep(0.2)\n"
    "time.sleep(0.5)\n"
    "dashboard.controls.upload.set_state({'value': [{'name': 'x.npz', 'type': '', 'size': 1,\n"
    "                                     'last_modified': 0, 'content': b'x'}]})\n"
    "print(dashboard.controls.state, dashboard.live.loss_chart.points, dashboard.status.level)",
    "dashboard.close()",
]


def test_dashboard_trains_in_kernel():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    with tempfile.TemporaryDirectory() as home:
        env_home = {"HOME": home, "IPYTHONDIR": os.path.join(home, "ipython")}
        old = {k: os.environ.get(k) for k in env_home}
        os.environ.update(env_home)
        try:
            client = NotebookClient(notebook, timeout=300, kernel_name="python3")
            client.execute()
        finally:
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    stderr = [o["text"] for o in outputs if o.get("name") == "stderr"]
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert stderr == []
    assert errors == []
    printed = notebook.cells[1].outputs[0]["text"].split()
    assert printed == ["finished", "40", "error"]
    widget_view = notebook.cells[0].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in widget_view
