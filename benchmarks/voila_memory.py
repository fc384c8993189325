"""Time from page open to usable widgets in the Voilà app, and the kernel's memory after training.

Starts the app (``python -m psychrnn_widgets.app.cli --no-browser --port P`` on 127.0.0.1, with
its own HOME) through the helpers in ``tests/app``, opens it in headless Chromium with
Playwright and times page open until the Train button is enabled. Then it sets Updates to 1000,
presses Train, waits until the status line reports that the run reached max_updates, and reads the
resident memory of the dashboard's kernel (the server's ``ipykernel_launcher`` child that used
the most CPU) with psutil: the current RSS and the peak (``VmHWM``), and from
``/proc/PID/smaps_rollup`` its private memory and proportional share (PSS).

The first page is opened without a preheated kernel (``--no-preheat``), the slowest case. Then a
second server with the default preheated kernel gets 20 s before its page is opened and timed.

Targets: interactive within 10 s; kernel memory at most 0.7 x the peak RSS of PsychRNN's
training process (857 MB in ``engine_vs_psychrnn.py``, so 600 MB).

Usage::

    python benchmarks/voila_memory.py    # cold page with training, then preheated page

``--quick`` is accepted, for run_all, and runs the same (about a minute).

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests" / "app"))

from _common import machine_info, utc_now  # noqa: E402
from browser_pages import CHROMIUM, CHROMIUM_ARGS, open_page  # noqa: E402
from voila_server import start_server, stop_server  # noqa: E402

NOTEBOOK = ROOT / "notebooks" / "dashboard.ipynb"
READY = ".prw-train-button:not([disabled])"
PSYCHRNN_PEAK_MB = 857.1
TRAIN_TIMEOUT_MS = 900_000


def _memory_shares(pid: int) -> dict:
    """Return the kernel's private memory (USS), proportional share (PSS) and file-backed RSS in MB.

    RSS counts TensorFlow's shared libraries in full in every kernel, though the pages are
    shared. Private memory is what one more kernel adds to a classroom server.
    """
    fields: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, _, rest = line.partition(":")
            fields[name] = int(rest.split()[0])
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError, IndexError):
        return {}
    file_kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("RssFile")), 0)
    private_kb = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {"private_mb": round(private_kb / 1024, 1), "pss_mb": round(fields.get("Pss", 0) / 1024, 1),
            "file_rss_mb": round(file_kb / 1024, 1)}


def kernel_memory(server) -> dict:
    """Return RSS and peak RSS in MB of the kernel that used the most CPU, and of all kernels."""
    kernels = []
    for pid in server.kernel_pids():
        try:
            process = psutil.Process(pid)
            status = Path(f"/proc/{pid}/status").read_text()
            peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
            cpu = process.cpu_times()
            shares = _memory_shares(pid)
            kernels.append({"pid": pid, "rss_mb": round(process.memory_info().rss / 2**20, 1),
                            "peak_rss_mb": round(peak_kb / 1024, 1), "cpu_s": round(cpu.user + cpu.system, 1),
                            **shares})
        except (psutil.NoSuchProcess, OSError):
            continue
    if not kernels:
        raise RuntimeError("no ipykernel_launcher child found under the server")
    return {"dashboard": max(kernels, key=lambda k: k["cpu_s"]), "kernels": kernels}


def cold_page_and_training(browser, updates: int) -> dict:
    """Open the app without preheating, time the widgets, train ``updates`` and read memory."""
    with tempfile.TemporaryDirectory() as home:
        server = start_server(NOTEBOOK, Path(home), extra_args=["--no-preheat"])
        try:
            context, page, interactive_s = open_page(browser, server.url, READY)
            before = kernel_memory(server)["dashboard"]
            field = page.locator(".prw-max-updates input")
            field.fill(str(updates))
            field.press("Enter")
            started = time.monotonic()
            page.locator(".prw-train-button").click()
            page.locator(".prw-status", has_text="max_updates").first.wait_for(timeout=TRAIN_TIMEOUT_MS)
            train_s = time.monotonic() - started
            after = kernel_memory(server)
            context.close()
        finally:
            stop_server(server.process)
    return {"ready_s": round(server.ready_s, 2), "interactive_s": round(interactive_s, 2),
            "train_s": round(train_s, 1), "rss_before_mb": before["rss_mb"], **after}


def preheated_page(browser) -> dict:
    """Open the app with its default preheated kernel after 20 s and time the widgets."""
    with tempfile.TemporaryDirectory() as home:
        server = start_server(NOTEBOOK, Path(home))
        try:
            time.sleep(20)
            context, _page, interactive_s = open_page(browser, server.url, READY)
            context.close()
        finally:
            stop_server(server.process)
    return {"ready_s": round(server.ready_s, 2), "interactive_s": round(interactive_s, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the same run (it is short already)")
    parser.add_argument("--updates", type=int, default=1000, help="updates to train from the page")
    options = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            cold = cold_page_and_training(browser, options.updates)
            print(f"cold: {json.dumps(cold)}", file=sys.stderr, flush=True)
            warm = preheated_page(browser)
        finally:
            browser.close()

    dashboard = cold["dashboard"]
    limit_mb = round(0.7 * PSYCHRNN_PEAK_MB, 1)
    summary = {
        "benchmark": "voila_memory",
        "interactive_s": cold["interactive_s"],
        "interactive_preheated_s": None if warm is None else warm["interactive_s"],
        "server_ready_s": cold["ready_s"],
        "kernel_rss_mb": dashboard["rss_mb"],
        "kernel_peak_rss_mb": dashboard["peak_rss_mb"],
        "kernel_rss_before_training_mb": cold["rss_before_mb"],
        "kernel_private_mb": dashboard.get("private_mb"),
        "kernel_pss_mb": dashboard.get("pss_mb"),
        "kernel_file_rss_mb": dashboard.get("file_rss_mb"),
        "train_s": cold["train_s"],
        "updates": options.updates,
        "kernels": cold["kernels"],
        "memory_limit_mb": limit_mb,
        "psychrnn_peak_rss_mb": PSYCHRNN_PEAK_MB,
        "memory_ratio": round(dashboard["rss_mb"] / PSYCHRNN_PEAK_MB, 3),
        "interactive_met": cold["interactive_s"] <= 10.0,
        "memory_met": dashboard["rss_mb"] <= limit_mb,
        "load_average_1min": machine_info()["load_average_1min"],
        "time": utc_now(),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
