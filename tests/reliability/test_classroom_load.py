"""Several students at once: N pages of one server each press Train (opt-in, several minutes).

Run with ``PRW_CLASSROOM_TEST=1`` and optionally ``PRW_CLASSROOM_PAGES=8``. The test records the
memory of each kernel and the seconds each page needs to reach 80 % accuracy, prints them and
writes them to ``test-artifacts/classroom-<N>.json`` (see docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import psutil
import pytest

from browser_pages import ARTIFACTS, FIRST_RENDER_TIMEOUT_MS, accuracy_points, new_page
from voila_server import start_server, stop_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("PRW_CLASSROOM_TEST"),
                       reason="takes minutes; set PRW_CLASSROOM_TEST=1 to run it"),
]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "dashboard.ipynb"
PAGES = int(os.environ.get("PRW_CLASSROOM_PAGES", "4"))
# Extra psychrnn-widgets options, e.g. "--VoilaExecutor.iopub_timeout=60".
SERVER_ARGS = os.environ.get("PRW_CLASSROOM_SERVER_ARGS", "").split()
TARGET_ACCURACY = 0.8
DEADLINE_S = 300


def kernel_rss_mib(server) -> dict[int, float]:
    sizes = {}
    for pid in server.kernel_pids():
        try:
            sizes[pid] = psutil.Process(pid).memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            continue
    return sizes


def note(text: str) -> None:
    """Print a timestamped progress line (shown with ``pytest -s``)."""
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


def test_pages_train_at_once(browser_type, browser_type_launch_args, tmp_path_factory):
    server = start_server(NOTEBOOK, tmp_path_factory.mktemp("voila-home"), extra_args=["--no-preheat", *SERVER_ARGS])
    browsers = []
    try:
        pages = []
        for _ in range(PAGES):
            # One browser per student, as in a class. NOTE: with one shared Chromium only three of
            # eight pages rendered; Chromium's limit of six connections per host may be the cause.
            browser = browser_type.launch(**browser_type_launch_args)
            browsers.append(browser)
            _context, page = new_page(browser)
            # Return at "commit" so that the next page opens before this one renders.
            page.goto(server.url, wait_until="commit", timeout=FIRST_RENDER_TIMEOUT_MS)
            pages.append(page)
        opened = time.monotonic()
        note(f"{PAGES} pages requested")
        for index, page in enumerate(pages):
            page.wait_for_selector(".prw-train-button", timeout=4 * FIRST_RENDER_TIMEOUT_MS)
            note(f"page {index} rendered")
        render_s = time.monotonic() - opened
        started = {}
        for index, page in enumerate(pages):
            field = page.locator(".prw-max-updates input")
            field.fill("3000")
            field.press("Enter")
            page.locator(".prw-train-button").click()
            started[index] = time.monotonic()
            note(f"page {index} training")
        reached: dict[int, float] = {}
        peak_rss: dict[int, float] = {}
        while len(reached) < PAGES and time.monotonic() - opened < DEADLINE_S:
            for pid, size in kernel_rss_mib(server).items():
                peak_rss[pid] = max(size, peak_rss.get(pid, 0.0))
            for index, page in enumerate(pages):
                if index not in reached and max(accuracy_points(page), default=0.0) >= TARGET_ACCURACY:
                    reached[index] = time.monotonic() - started[index]
                    note(f"page {index} reached {TARGET_ACCURACY:.0%} after {reached[index]:.0f} s")
            time.sleep(2.0)
        errors = [page.locator(".prw-status-error").all_inner_texts() for page in pages]
        result = {
            "pages": PAGES,
            "server_args": SERVER_ARGS,
            "iopub_timeouts": server.log_text().count("Timeout waiting for IOPub output"),
            "all_rendered_s": round(render_s, 1),
            "seconds_to_80_percent": [round(reached.get(i, float("nan")), 1) for i in range(PAGES)],
            "kernel_peak_rss_mib": sorted(round(size) for size in peak_rss.values()),
            "cpu_count": psutil.cpu_count(),
            "status_errors": [text for texts in errors for text in texts if text.strip()],
        }
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"classroom-{PAGES}.json").write_text(json.dumps(result, indent=1))
        print(json.dumps(result))
        assert result["status_errors"] == []
        assert len(peak_rss) == PAGES
        assert sorted(reached) == list(range(PAGES)), result
    finally:
        for browser in browsers:
            browser.close()
        stop_server(server.process)
