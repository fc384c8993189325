"""Measure server start-up and first-page time of the Voilà app, with and without a preheated kernel.

Run from the repository root::

    .venv/bin/python tests/app/measure_startup.py [--notebook PATH] [--selector CSS] [--visits N]

For each mode it starts ``psychrnn-widgets`` on a free 127.0.0.1 port, times until the server
responds, then opens the page in Chromium ``--visits`` times (one page after another, each closed
before the next) and times page open to the first element matching ``--selector``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from browser_pages import CHROMIUM, CHROMIUM_ARGS, open_page
from voila_server import start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]


def measure(notebook: Path, selector: str, visits: int, preheat: bool, browser) -> dict:
    with tempfile.TemporaryDirectory() as home:
        extra = [] if preheat else ["--no-preheat"]
        server = start_server(notebook, Path(home), extra_args=extra)
        try:
            if preheat:
                # Give the pool time to run the notebook, as a visitor arriving later would find.
                time.sleep(20)
            renders = []
            for _ in range(visits):
                context, _page, render_s = open_page(browser, server.url, selector)
                context.close()
                renders.append(render_s)
                if preheat:
                    time.sleep(20)
        finally:
            stop_server(server.process)
    return {"ready_s": server.ready_s, "renders_s": renders}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", type=Path, default=ROOT / "notebooks" / "dashboard.ipynb")
    parser.add_argument("--selector", default=".prw-train-button")
    parser.add_argument("--visits", type=int, default=3)
    options = parser.parse_args()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for preheat in (False, True):
            result = measure(options.notebook, options.selector, options.visits, preheat, browser)
            renders = ", ".join(f"{value:.1f}" for value in result["renders_s"])
            print(
                f"preheat={preheat}: server ready {result['ready_s']:.1f} s; "
                f"page open to {options.selector} visible: {renders} s "
                f"(median {statistics.median(result['renders_s']):.1f} s)"
            )
        browser.close()


if __name__ == "__main__":
    main()
