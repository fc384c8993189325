"""Shared test set-up: quiet TensorFlow before it is imported, make ``benchmarks`` and the browser
helpers of ``tests/app`` importable, and launch Chromium the same way for every browser test."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

# TensorFlow reads these once, at import: they silence its C++ banner and keep oneDNN's
# reordered float arithmetic out of results that tests compare to 1e-6.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# Compiled programs go to a cache of the test run, not the user's ~/.cache.
os.environ.setdefault(
    "PSYCHRNN_WIDGETS_XLA_CACHE", str(Path(tempfile.gettempdir()) / "psychrnn_widgets-tests-xla")
)

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

# The browser helpers (browser_pages, voila_server) are plain modules in tests/app. Pytest's
# importlib import mode does not put folders on sys.path, so add it here.
APP_TESTS = Path(__file__).resolve().parent / "app"
if str(APP_TESTS) not in sys.path:
    sys.path.insert(0, str(APP_TESTS))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, tmp_path_factory):
    """Launch Debian's Chromium with flags that keep it off the network and out of ``$HOME``."""
    from browser_pages import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing; install it with `apt-get install -y chromium`")
    home = tmp_path_factory.mktemp("chromium-home")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "env": {**os.environ, "HOME": str(home)},
    }
