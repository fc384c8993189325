"""Voilà settings for serving the dashboard to a class.

The options are built as Voilà command-line arguments so that the console command, the tests and
a Binder set-up all start the same server.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

__all__ = [
    "CELL_ERROR_MESSAGE",
    "CULL_IDLE_TIMEOUT_S",
    "CULL_INTERVAL_S",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "KERNEL_ENVIRONMENT",
    "dashboard_notebook",
    "voila_arguments",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866

# A kernel with TensorFlow 2.21 imported uses about 560 MB, so a closed tab must not keep one alive
# for long. Jupyter Server's culler skips kernels that still have a page connected, so an open
# but idle page keeps its network.
CULL_IDLE_TIMEOUT_S = 600
CULL_INTERVAL_S = 60

# Shown in place of a cell's error. Tracebacks stay in the server log, never on the page.
CELL_ERROR_MESSAGE = (
    "This part of the page could not be shown. "
    "The person running the server can find the reason in its log."
)

# TensorFlow writes start-up lines to stderr, and Voilà forwards a kernel's stderr to the page.
KERNEL_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
}


def dashboard_notebook() -> Path:
    """Return the path of the dashboard notebook shipped inside the package."""
    return Path(str(resources.files("psychrnn_widgets.app") / "notebooks" / "dashboard.ipynb"))


def voila_arguments(
    notebook: str | os.PathLike[str],
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = False,
    preheat: bool = True,
    cull_idle_timeout_s: int = CULL_IDLE_TIMEOUT_S,
    cull_interval_s: int = CULL_INTERVAL_S,
) -> list[str]:
    """Build the Voilà command-line arguments that serve one notebook.

    Parameters
    ----------
    notebook : path-like
        Notebook to serve.
    host : str, default "127.0.0.1"
        Address to listen on.
    port : int, default 8866
        TCP port. Voilà fails rather than moving to another port when it is taken.
    open_browser : bool, default False
        Open the page in the default web browser once the server listens.
    preheat : bool, default True
        Keep one kernel that has already run the notebook ready for the next visitor. It halves
        the first page's load time and costs one extra kernel's memory.
    cull_idle_timeout_s, cull_interval_s : int
        Shut down a kernel with no page connected after this many idle seconds, checking every
        ``cull_interval_s`` seconds.

    Returns
    -------
    list of str
        Arguments for ``voila`` (without the program name).
    """
    arguments = [
        str(notebook),
        f"--Voila.ip={host}",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        f"--Voila.open_browser={open_browser}",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        f"--VoilaExecutor.cell_error_instruction={CELL_ERROR_MESSAGE}",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_timeout_s}",
        f"--MappingKernelManager.cull_interval={cull_interval_s}",
        # A class opens many pages at once, and each kernel imports TensorFlow. With nbclient's
        # default 4 s wait for output, 8 pages opened together left some without widgets.
        "--VoilaExecutor.iopub_timeout=120",
    ]
    if preheat:
        # Voilà 0.5.13 starts the pool only when both options are given.
        arguments += ["--preheat_kernel=True", "--pool_size=1"]
    return arguments
