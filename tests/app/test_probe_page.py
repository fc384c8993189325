"""The served page, the Voilà settings and kernel culling, checked with a small widget notebook."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser_pages import open_page

from psychrnn_widgets.app.settings import CELL_ERROR_MESSAGE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = Path(__file__).parent / "notebooks" / "probe.ipynb"
READY_SELECTOR = ".probe-environment"
# Short culling so that a closed page's kernel goes within the test.
SERVER_ARGS = [
    "--MappingKernelManager.cull_idle_timeout=10",
    "--MappingKernelManager.cull_interval=5",
]


def test_page_hides_source_and_traceback(app_page):
    html = app_page.content()
    assert "probe-source-marker" not in html
    assert "on_click" not in html
    assert "probe-secret-error-marker" not in html
    assert "Traceback" not in html
    assert "RuntimeError" not in html


def test_cell_error_shows_neutral_message(app_page):
    expect(app_page.get_by_text(CELL_ERROR_MESSAGE)).to_be_visible()
    # Voilà stops at the first failing cell.
    assert app_page.locator(".probe-after-error").count() == 0


def test_kernel_gets_quiet_tensorflow_environment(app_page):
    expect(app_page.locator(".probe-environment")).to_have_text(
        "TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0"
    )


def test_button_click_reaches_kernel(app_page):
    label = app_page.locator(".probe-clicks")
    before = int(label.inner_text().split("=")[1])
    app_page.locator(".probe-button").click()
    expect(label).to_have_text(f"clicks={before + 1}")


def test_slider_change_reaches_kernel(app_page):
    handle = app_page.locator(".probe-slider .noUi-handle")
    value = round(float(handle.get_attribute("aria-valuenow")))
    handle.focus()
    key = "ArrowRight" if value < 10 else "ArrowLeft"
    expected = value + 1 if value < 10 else value - 1
    app_page.keyboard.press(key)
    expect(app_page.locator(".probe-doubled")).to_have_text(f"doubled={2 * expected}")


def test_closed_page_kernel_is_culled(browser, voila_server, app_page):
    before = set(voila_server.kernel_pids())
    context, page, _ = open_page(browser, voila_server.url, READY_SELECTOR)
    # The new page took the preheated kernel; the pool starts a replacement a moment later.
    deadline = time.monotonic() + 15
    with_page = set(voila_server.kernel_pids())
    while len(with_page) <= len(before) and time.monotonic() < deadline:
        time.sleep(0.5)
        with_page = set(voila_server.kernel_pids())
    context.close()

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        after = set(voila_server.kernel_pids())
        if len(after) <= len(before) and "Culling kernel" in voila_server.log_text():
            break
        time.sleep(1)
    assert len(with_page) == len(before) + 1
    assert len(after) == len(before)
    assert "Culling kernel" in voila_server.log_text()
    # The shared page's kernel is still there: its page is connected.
    expect(app_page.locator(".probe-environment")).to_be_visible()
