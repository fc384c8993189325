"""The dashboard served by psychrnn-widgets, driven in Chromium as a student would use it.

The tests share one page and run in file order: the form and the mask editor first, on the
untrained network, then training, pausing, the accuracy, a screenshot and a curriculum.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser_pages import accuracy_points, save_screenshot

from psychrnn_widgets.app.settings import CELL_ERROR_MESSAGE
from psychrnn_widgets.tasks import PerceptualDiscrimination

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "dashboard.ipynb"
READY_SELECTOR = ".prw-train-button"
README_SCREENSHOT = ROOT / "docs" / "images" / "dashboard.png"

ACCURACY_DEADLINE_S = 60
# The second point came 1.4 to 2 s after Train on the 2-core development machine.
SECOND_POINT_DEADLINE_S = 20
# Colour of an absent connection in the mask editor's grid.
NO_CONNECTION_FILL = "rgb(242, 242, 242)"


def path_points(page, selector: str) -> int:
    """Return the most points of any bqplot line under ``selector`` (0 if none).

    A trial preview draws inputs, targets and mask with one point per time step, and the period
    shading with a few points.
    """
    paths = page.locator(selector).evaluate_all("lines => lines.map(l => l.getAttribute('d') || '')")
    return max((len(re.findall(r"[ML]", d)) for d in paths), default=0)


def trials_shown(page) -> int:
    """Return the trial count at the start of the throughput label ("1,000 / 25,000 trials...")."""
    text = page.locator(".prw-throughput").inner_text()
    match = re.match(r"\s*([\d,]+)", text)
    return int(match.group(1).replace(",", "")) if match else 0


def page_state(page) -> str:
    """Return the status line and the progress label, for failure messages."""
    status = page.locator(".prw-status").inner_text().strip()
    progress = page.locator(".prw-throughput").inner_text().strip()
    return f"status {status!r}, progress {progress!r}"


def wait_until(condition, timeout_s: float, interval_s: float = 0.25):
    """Poll ``condition`` until it returns a truthy value; return it, or the last value on timeout."""
    deadline = time.monotonic() + timeout_s
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(interval_s)
        value = condition()
    return value


def submit_text(page, selector: str, value: str) -> None:
    """Type ``value`` into the input under ``selector`` and commit it with Enter."""
    field = page.locator(selector)
    field.fill(value)
    field.press("Enter")


def open_tab(page, name: str) -> None:
    page.locator(".prw-settings").get_by_text(name, exact=True).first.click()


def test_page_renders_without_source(app_page, voila_server):
    print(f"server ready in {voila_server.ready_s:.1f} s; page rendered in {app_page.render_s:.1f} s")
    html = app_page.content()
    assert "from psychrnn_widgets" not in html
    assert "send_logs_to_file" not in html
    assert "Traceback" not in html
    assert CELL_ERROR_MESSAGE not in html
    expect(app_page.locator(".prw-dashboard")).to_be_visible()
    expect(app_page.locator(".prw-train-button")).to_be_enabled()


def test_task_change_updates_preview(app_page):
    open_tab(app_page, "Task")
    field = ".prw-task-form .prw-input-T input"
    current_T = float(app_page.locator(field).input_value())
    new_T = 1000.0 if current_T != 1000.0 else 1500.0
    dt = float(app_page.locator(".prw-task-form .prw-input-dt input").input_value())
    expected_steps = round(new_T / dt)
    assert path_points(app_page, ".prw-trial-preview path.line") == round(current_T / dt)

    submit_text(app_page, field, f"{new_T:g}")

    steps = wait_until(
        lambda: path_points(app_page, ".prw-trial-preview path.line") == expected_steps, 15
    )
    assert steps, f"preview still has {path_points(app_page, '.prw-trial-preview path.line')} points"


def test_invalid_value_shows_message(app_page):
    open_tab(app_page, "Task")
    tau_field = app_page.locator(".prw-task-form .prw-field-tau")
    try:
        PerceptualDiscrimination(tau=5)
    except ValueError as error:
        expected = str(error)
    assert expected == "tau must be larger than dt (got tau=5 ms, dt=10 ms)"

    submit_text(app_page, ".prw-task-form .prw-input-tau input", "5")
    expect(tau_field.locator(".prw-field-error")).to_have_text(expected)

    submit_text(app_page, ".prw-task-form .prw-input-tau input", "100")
    expect(tau_field.locator(".prw-field-error")).to_be_hidden()


def test_mask_click_reaches_kernel(app_page):
    open_tab(app_page, "Connectivity")
    cell = app_page.locator(".prw-mask-figure rect.heatmapcell").nth(1)
    expect(cell).to_be_visible()
    fill = cell.evaluate("cell => getComputedStyle(cell).fill")
    assert fill != NO_CONNECTION_FILL

    cell.click()
    # The kernel toggles the mask, rebuilds the untrained network and redraws the grid.
    expect(app_page.locator(".prw-status")).to_have_text("Connectivity changed: network rebuilt.")
    assert wait_until(lambda: cell.evaluate("c => getComputedStyle(c).fill") == NO_CONNECTION_FILL, 15)

    cell.click()
    assert wait_until(lambda: cell.evaluate("c => getComputedStyle(c).fill") == fill, 15)
    open_tab(app_page, "Task")


def line_path(page, selector: str) -> str:
    lines = page.locator(selector)
    return (lines.first.get_attribute("d") or "") if lines.count() else ""


def start_training(page) -> None:
    if page.locator(".prw-pause-button").is_enabled():
        return
    page.locator(".prw-train-button").click()
    page.training_started = time.monotonic()
    expect(page.locator(".prw-pause-button")).to_be_enabled()


def test_train_grows_loss_line(app_page):
    # 1000 updates of 50 trials take about a minute here: long enough to pause in the middle.
    submit_text(app_page, ".prw-max-updates input", "1000")
    expect(app_page.locator(".prw-max-updates input")).to_have_value("1000")
    start_training(app_page)

    loss = ".prw-loss-chart path.line"
    grown = wait_until(lambda: path_points(app_page, loss) >= 2, SECOND_POINT_DEADLINE_S)
    waited = time.monotonic() - app_page.training_started
    assert grown, f"loss line has {path_points(app_page, loss)} points after {waited:.0f} s; {page_state(app_page)}"
    print(f"second loss point {waited:.1f} s after Train")
    first_d, first_trials = line_path(app_page, loss), trials_shown(app_page)
    assert wait_until(lambda: trials_shown(app_page) > first_trials, 15)
    assert wait_until(lambda: line_path(app_page, loss) != first_d, 15)


def test_pause_stops_and_train_resumes(app_page):
    start_training(app_page)
    accuracy = ".prw-accuracy-chart path.line"
    assert wait_until(lambda: path_points(app_page, accuracy) >= 2, 30)

    app_page.locator(".prw-pause-button").click()
    expect(app_page.locator(".prw-train-button")).to_be_enabled()
    time.sleep(1.0)  # lets the last throttled refresh arrive
    paused_d, paused_trials = line_path(app_page, accuracy), trials_shown(app_page)
    time.sleep(3.0)
    assert trials_shown(app_page) == paused_trials
    assert line_path(app_page, accuracy) == paused_d

    app_page.locator(".prw-train-button").click()
    expect(app_page.locator(".prw-pause-button")).to_be_enabled()
    assert wait_until(lambda: trials_shown(app_page) > paused_trials, 15)
    assert wait_until(lambda: line_path(app_page, accuracy) != paused_d, 15)


def test_accuracy_above_chance_within_a_minute(app_page):
    start_training(app_page)
    started = getattr(app_page, "training_started", time.monotonic())
    left = max(1.0, ACCURACY_DEADLINE_S - (time.monotonic() - started))

    # Two choices: chance is 0.5.
    reached = wait_until(lambda: max(accuracy_points(app_page), default=0.0) >= 0.8, left, 0.5)
    best = max(accuracy_points(app_page), default=0.0)
    print(f"accuracy {best:.2f} after {time.monotonic() - started:.0f} s of training")
    assert reached, f"best accuracy {best:.2f} after {ACCURACY_DEADLINE_S} s"


def test_screenshot_saved(app_page):
    if app_page.locator(".prw-pause-button").is_enabled():
        app_page.locator(".prw-pause-button").click()
        expect(app_page.locator(".prw-train-button")).to_be_enabled()
    app_page.set_viewport_size({"width": 1300, "height": 1180})
    # Voilà's page scrolls inside its own containers, so reset every scrolled element.
    app_page.evaluate(
        "() => document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })"
    )
    time.sleep(0.5)
    path = save_screenshot(app_page, "dashboard")
    assert path.stat().st_size > 20_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, README_SCREENSHOT)
    app_page.set_viewport_size({"width": 1400, "height": 1000})


def test_curriculum_advances_stage(app_page):
    if app_page.locator(".prw-stop-button").is_enabled():
        app_page.locator(".prw-stop-button").click()
    expect(app_page.locator(".prw-train-button")).to_be_enabled()

    open_tab(app_page, "Curriculum")
    app_page.locator(".prw-curriculum-enabled input").check()
    add = app_page.locator(".prw-curriculum-add")
    add.click()
    expect(app_page.locator(".prw-stage")).to_have_count(1)
    add.click()
    expect(app_page.locator(".prw-stage")).to_have_count(2)
    # Stage 1 is the task the network has learned; stage 2 has no evidence at all, so the network
    # reaches stage 2 and stays there.
    submit_text(app_page, ".prw-stage >> nth=1 >> .prw-stage-overrides input", "coherence=0")
    expect(app_page.locator(".prw-stage").nth(1).locator(".prw-field-error")).to_be_hidden()

    app_page.locator(".prw-train-button").click()
    label = app_page.locator(".prw-curriculum-editor .prw-curriculum-current")
    expect(label).to_have_text(re.compile(r"^Stage 2 of 2: metric [\d.]+, threshold 0\.9$"),
                               timeout=60_000)
    expect(app_page.locator(".prw-stage").nth(1)).to_have_class(re.compile(r"\bprw-stage-current\b"))
    app_page.locator(".prw-stop-button").click()
    expect(app_page.locator(".prw-train-button")).to_be_enabled()


def test_no_widget_errors_in_console(app_page):
    # Runs last. A widget model that fails to apply a state change from the kernel stops
    # redrawing, and only the browser console reports it. (Aborted requests to
    # other hosts, and SVG sizes of charts in hidden tabs, also log errors and are harmless.)
    failures = [
        text for text in app_page.console_errors
        if "Error setting state" in text or text.startswith("uncaught:")
    ]
    assert failures == []
