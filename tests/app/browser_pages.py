"""Open served pages in Chromium through Playwright, with every request kept on 127.0.0.1."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

FIRST_RENDER_TIMEOUT_MS = 120_000
INTERACTION_TIMEOUT_MS = 15_000


def only_loopback(route) -> None:
    """Let requests to 127.0.0.1, data: and blob: through and abort every other one."""
    url = urlparse(route.request.url)
    if url.scheme in ("data", "blob") or url.hostname == "127.0.0.1":
        route.continue_()
    else:
        route.abort()


def open_page(browser, url: str, ready_selector: str):
    """Open ``url`` in a fresh context and wait for ``ready_selector``; return (context, page, s)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(INTERACTION_TIMEOUT_MS)
    started = time.monotonic()
    page.goto(url, timeout=FIRST_RENDER_TIMEOUT_MS)
    page.wait_for_selector(ready_selector, timeout=FIRST_RENDER_TIMEOUT_MS)
    return context, page, time.monotonic() - started


def save_screenshot(page, name: str) -> Path:
    """Save a screenshot of ``page`` to test-artifacts/ with no hover toolbar in it."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.mouse.move(0, 0)
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def copy_to_docs(screenshot: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(screenshot, target)
