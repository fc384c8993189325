"""Fixtures for the app tests: a real Voilà server and a real Chromium page per test module.

A browser test module sets ``NOTEBOOK`` (the notebook to serve) and may set ``SERVER_ARGS``
(extra ``psychrnn-widgets`` options). Its tests share one server and one rendered page, because
each page costs a kernel and a TensorFlow import.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# tests/conftest.py puts this folder on sys.path and launches Chromium for every browser test.
from browser_pages import open_page, save_screenshot
from voila_server import VoilaServer, start_server, stop_server


@pytest.fixture(scope="module")
def voila_server(request, tmp_path_factory) -> VoilaServer:
    """Serve the module's ``NOTEBOOK`` with ``psychrnn-widgets`` on 127.0.0.1."""
    notebook = Path(request.module.NOTEBOOK)
    extra_args = list(getattr(request.module, "SERVER_ARGS", []))
    home = tmp_path_factory.mktemp("voila-home")
    server = start_server(notebook, home, extra_args=extra_args)
    yield server
    stop_server(server.process)


@pytest.fixture(scope="module")
def app_page(request, browser, voila_server):
    """A page of the module's server, rendered up to the module's ``READY_SELECTOR``."""
    context, page, render_s = open_page(browser, voila_server.url, request.module.READY_SELECTOR)
    page.render_s = render_s
    yield page
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("app_page") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and page is not None:
        try:
            save_screenshot(page, f"failed-{item.name}")
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the test's failure
            pass
