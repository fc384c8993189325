"""Open served pages in Chromium through Playwright, with every request kept on 127.0.0.1.

The dashboard tests also read values back from the pages' charts here.
"""

from __future__ import annotations

import re
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


def new_page(browser):
    """Return ``(context, page)``: a fresh context that reaches only 127.0.0.1, and a blank page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(INTERACTION_TIMEOUT_MS)
    # Widget errors in the browser (a chart that stops redrawing) show only in the console.
    page.console_errors = []
    page.on("console", lambda message: _keep_error(page, message))
    page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
    return context, page


def _keep_error(page, message) -> None:
    if message.type == "error":
        page.console_errors.append(message.text)


def open_page(browser, url: str, ready_selector: str):
    """Open ``url`` in a fresh context and wait for ``ready_selector``; return (context, page, s)."""
    context, page = new_page(browser)
    started = time.monotonic()
    page.goto(url, timeout=FIRST_RENDER_TIMEOUT_MS)
    page.wait_for_selector(ready_selector, timeout=FIRST_RENDER_TIMEOUT_MS)
    return context, page, time.monotonic() - started


def accuracy_points(page) -> list[float]:
    """Return the values drawn in the dashboard's accuracy chart, read from pixel positions.

    The y axis is linear, so two of its ticks give the pixel scale. The list is empty until the
    chart has a line and two numbered ticks.
    """
    figure = page.locator(".prw-accuracy-chart-figure")
    ticks = figure.evaluate(
        # Ticks of the vertical axis draw their grid line along x (x2), the others along y.
        """figure => Array.from(figure.querySelectorAll('g.axis g.tick'))
            .filter(tick => tick.querySelector('line[x2]'))
            .map(tick => [tick.textContent.trim(), tick.getAttribute('transform')])"""
    )
    positions = []
    for label, transform in ticks:
        match = re.match(r"translate\(\s*0\s*,\s*([-\d.]+)\s*\)", transform or "")
        try:
            value = float(label)
        except ValueError:
            continue
        if match:
            positions.append((value, float(match.group(1))))
    if len(positions) < 2:
        return []
    (low, y_low), (high, y_high) = min(positions), max(positions)
    pixels_per_unit = (y_low - y_high) / (high - low)

    lines = figure.locator("path.line")
    if lines.count() == 0:
        return []
    d = lines.first.get_attribute("d") or ""
    ys = [float(y) for y in re.findall(r"[ML][-\d.e]+,([-\d.e]+)", d)]
    return [low + (y_low - y) / pixels_per_unit for y in ys]


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
