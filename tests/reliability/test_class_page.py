"""Voilà in a class: no traceback, source line or server path reaches the browser.

One server serves a notebook whose first cell shows the Dashboard and whose second cell fails on
purpose. The page then gets an invalid value and two bad uploads. Every websocket frame the
browser receives is kept and searched.
"""

from __future__ import annotations

import io
import pickle
import re
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from playwright.sync_api import expect

from browser_pages import FIRST_RENDER_TIMEOUT_MS, INTERACTION_TIMEOUT_MS, only_loopback
from voila_server import start_server, stop_server

from psychrnn_widgets.app.settings import CELL_ERROR_MESSAGE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = Path(__file__).resolve().parent / "notebooks" / "failing_cell.ipynb"
# Text that would show a traceback, a source line or a path of the server.
LEAKS = ["Traceback", 'File "/', "site-packages", "/tmp/", "this cell fails on purpose",
         "raise RuntimeError", "ipykernel_launcher"]
STDERR_PATTERN = re.compile(r'"name"\s*:\s*"stderr"')


class Frames:
    """Every websocket frame the page receives, as text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def attach(self, websocket) -> None:
        websocket.on("framereceived", self._keep)

    def _keep(self, payload) -> None:
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8", errors="replace")
        self.texts.append(payload)

    def leaks(self) -> list[str]:
        return [word for word in LEAKS if any(word in text for text in self.texts)]

    def stderr_messages(self) -> list[str]:
        return [text[:300] for text in self.texts if STDERR_PATTERN.search(text)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(NOTEBOOK, tmp_path_factory.mktemp("voila-home"))
    yield server
    stop_server(server.process)


@pytest.fixture(scope="module")
def page_and_frames(browser, server):
    frames = Frames()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(INTERACTION_TIMEOUT_MS)
    page.on("websocket", frames.attach)
    page.goto(server.url, timeout=FIRST_RENDER_TIMEOUT_MS)
    page.wait_for_selector(".prw-train-button", timeout=FIRST_RENDER_TIMEOUT_MS)
    yield page, frames
    context.close()


def test_server_listens_on_loopback_only(server):
    sockets = [c for c in psutil.Process(server.process.pid).net_connections(kind="inet")
               if c.status == psutil.CONN_LISTEN]
    assert sockets
    assert {c.laddr.ip for c in sockets} == {"127.0.0.1"}


def test_failing_cell_shows_neutral_message(page_and_frames):
    page, frames = page_and_frames
    expect(page.get_by_text(CELL_ERROR_MESSAGE).first).to_be_visible()
    html = page.content()
    assert [word for word in LEAKS if word in html] == []
    assert frames.leaks() == []


def test_invalid_value_shows_in_place(page_and_frames):
    page, frames = page_and_frames
    page.locator(".prw-settings").get_by_text("Task", exact=True).first.click()
    field = page.locator(".prw-task-form .prw-input-tau input")
    field.fill("5")
    field.press("Enter")
    error = page.locator(".prw-task-form .prw-field-tau .prw-field-error")
    expect(error).to_contain_text("tau must be larger than dt (got tau=5 ms, dt=10 ms)")
    assert frames.leaks() == []


def npz_bytes() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, W_rec=np.zeros((50, 50)))
    return buffer.getvalue()


class MarkerPayload:
    def __reduce__(self):
        return (open, ("/tmp/prw-reliability-marker", "w"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.npz", npz_bytes()[:300], "Upload: weight file 'broken.npz' is unreadable"),
        ("homework.npz", pickle.dumps(MarkerPayload()), "Upload: weight file 'homework.npz'"),
    ],
)
def test_bad_upload_shows_message_without_traceback(page_and_frames, name, content, message):
    page, frames = page_and_frames
    before = len(frames.texts)
    with page.expect_file_chooser() as chooser:
        page.locator(".prw-upload").click()
    chooser.value.set_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}]
    )
    expect(page.locator(".prw-status .prw-status-error")).to_contain_text(message)
    assert not Path("/tmp/prw-reliability-marker").exists()
    time.sleep(0.5)
    # The frames carry the status message, so the search below reads the widget messages.
    assert any(name in text for text in frames.texts[before:])
    assert frames.leaks() == []


def test_kernel_wrote_nothing_to_stderr(page_and_frames):
    page, frames = page_and_frames
    assert frames.texts, "no websocket frame was seen"
    assert frames.stderr_messages() == []
