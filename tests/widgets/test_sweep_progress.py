"""SweepProgress: counts, bar and error list driven by SweepUpdate objects."""

import pytest

from psychrnn_widgets.engine.sweep import SweepUpdate, sweep
from psychrnn_widgets.widgets.sweep_progress import SweepProgress


def _update(kind, run_id=None, error=None, total=4, seed=0):
    settings = None if run_id is None else {"dale_ratio": 0.5}
    return SweepUpdate(kind=kind, total=total, run_id=run_id, settings=settings, seed=seed, error=error)


def test_initial_state():
    progress = SweepProgress()
    assert progress.state == "idle"
    assert (progress.total, progress.done, progress.running, progress.failed) == (0, 0, 0, 0)
    assert progress.label.value == "0 of 0 done, 0 running, 0 failed"
    assert "prw-sweep-progress" in progress._dom_classes


def test_counts_follow_updates():
    progress = SweepProgress()
    progress(_update("started"))
    progress(_update("skipped", "a"))
    progress(_update("running", "b"))
    progress(_update("running", "c"))
    assert progress.state == "running"
    assert (progress.done, progress.skipped, progress.running, progress.failed) == (1, 1, 2, 0)
    assert progress.queued == 1
    assert progress.label.value == "1 of 4 done, 2 running, 0 failed (1 read back from an earlier sweep)"

    progress(_update("finished", "b"))
    progress(_update("failed", "c", error="InvalidParameterError: dale_ratio <1", seed=3))
    assert (progress.done, progress.running, progress.failed) == (2, 0, 1)
    assert progress.errors == ["dale_ratio=0.5, seed=3: InvalidParameterError: dale_ratio <1"]
    assert progress.error_list.value == "<ul><li>dale_ratio=0.5, seed=3: InvalidParameterError: dale_ratio &lt;1</li></ul>"
    assert (progress.bar.value, progress.bar.max, progress.bar.bar_style) == (3, 4, "danger")

    progress(_update("done"))
    assert progress.state == "done"
    assert progress.queued == 1


def test_started_resets_counts():
    progress = SweepProgress()
    progress(_update("started", total=2))
    progress(_update("failed", "a", error="boom"))
    progress(_update("done", total=2))
    progress(_update("started", total=3))
    assert (progress.total, progress.done, progress.failed, progress.errors) == (3, 0, 0, [])
    assert progress.bar.bar_style == ""


def test_error_list_capped():
    progress = SweepProgress()
    progress(_update("started", total=8))
    for index in range(7):
        progress(_update("failed", f"r{index}", error=f"error {index}", seed=index))
    assert len(progress.errors) == 7
    assert progress.error_list.value.count("<li>") == 6
    assert progress.error_list.value.endswith("<li>and 2 more</li></ul>")


def test_success_style_when_done():
    progress = SweepProgress()
    progress(_update("started", total=1))
    progress(_update("finished", "a", total=1))
    progress(_update("done", total=1))
    assert (progress.bar.value, progress.bar.bar_style) == (1, "success")


def test_reads_back_a_real_sweep(tmp_path):
    """A sweep whose every run is on disk trains nothing and reports each run once."""
    from psychrnn_widgets.engine._sweep_run import write_json_atomic
    from psychrnn_widgets.engine._sweep_spec import SweepBase, expand_runs

    base = {"network": {"N_rec": 4}, "training": {"max_updates": 2}}
    runs = expand_runs(SweepBase.from_dict(base), {"dale_ratio": [0.5, 2.0]}, [0])
    finished, failed = runs
    (tmp_path / finished.run_id).mkdir()
    (tmp_path / finished.run_id / "network.npz").write_bytes(b"")
    write_json_atomic(tmp_path / finished.run_id / "metrics.json", {"status": "finished", "accuracy": 0.75, "seed": 0})
    write_json_atomic(tmp_path / failed.run_id / "metrics.json", {"status": "failed", "error": "bad dale_ratio", "seed": 0})

    progress = SweepProgress()
    table = sweep(base, {"dale_ratio": [0.5, 2.0]}, [0], tmp_path, progress=progress, retry_failed=False)
    assert table["accuracy"].tolist()[0] == pytest.approx(0.75)
    assert (progress.state, progress.total, progress.done, progress.skipped, progress.failed) == ("done", 2, 1, 1, 1)
    assert progress.errors == ["dale_ratio=2.0, seed=0: bad dale_ratio"]
