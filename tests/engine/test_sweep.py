"""Sweeps: grid names and run specs, then real sweeps in worker processes and on Dask."""

import concurrent.futures as cf
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from psychrnn_widgets.engine._batches import prefetch_enabled
from psychrnn_widgets.engine._sweep_run import EVAL_SEED, _updates_to_criterion
from psychrnn_widgets.engine._sweep_spec import XLA_MIN_UPDATES, SweepBase, expand_runs, use_xla
from psychrnn_widgets.engine.events import TrainingHistory
from psychrnn_widgets.engine.sweep import RESULT_COLUMNS, SweepUpdate, sweep
from psychrnn_widgets.errors import InvalidParameterError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BASE = {
    "task": "perceptual_discrimination",
    "task_values": {"T": 300.0, "N_batch": 8},
    "network": {"N_rec": 8},
    "training": {"max_updates": 4, "eval_every": 2},
    # 4 updates is far below XLA_MIN_UPDATES, so "auto" trains every run as a plain graph.
    "jit_compile": "auto",
}
# dale_ratio 1.5 is out of [0, 1], so those two runs fail when they build their network.
GRID = {"dale_ratio": [0.8, 1.5]}
SEEDS = [0, 1]
DALE_ERROR = "InvalidParameterError: dale_ratio must be in [0, 1] or None (got dale_ratio=1.5)"
WEIGHTS = ("W_in", "W_rec", "W_out", "b_rec", "b_out", "init_state")


# Grid names and run specs (no TensorFlow, no processes)


def test_expand_order_and_sections():
    runs = expand_runs(
        SweepBase.from_dict(BASE),
        {"dale_ratio": [0.8, 0.5], "coherence": [0.2], "learning_rate": [0.01]},
        [3, 4],
    )
    assert [(run.settings["dale_ratio"], run.seed) for run in runs] == [
        (0.8, 3), (0.8, 4), (0.5, 3), (0.5, 4)
    ]
    assert runs[0].network == {"N_rec": 8, "dale_ratio": 0.8}
    assert runs[0].task_values == {"T": 300.0, "N_batch": 8, "coherence": 0.2}
    assert runs[0].training == {"max_updates": 4, "eval_every": 2, "learning_rate": 0.01}


def test_expand_dotted_names_and_dt():
    runs = expand_runs(
        SweepBase.from_dict(BASE), {"network.rec_noise": [0.1], "task.T": [500.0], "dt": [20.0]}, 0
    )
    assert runs[0].network == {"N_rec": 8, "rec_noise": 0.1}
    assert runs[0].task_values == {"T": 500.0, "N_batch": 8, "dt": 20.0}


def test_expand_task_name_grid():
    runs = expand_runs(SweepBase.from_dict(BASE), {"task": ["perceptual_discrimination", "go_no_go"]}, [0])
    assert [run.task for run in runs] == ["perceptual_discrimination", "go_no_go"]


def test_expand_empty_grid_sweeps_seeds():
    runs = expand_runs(SweepBase.from_dict(BASE), {}, [5, 6])
    assert [(run.settings, run.seed) for run in runs] == [({}, 5), ({}, 6)]
    assert runs[0].run_id.startswith("seed=5-")


def test_engine_attribute_is_callable(tmp_path):
    import psychrnn_widgets.engine as engine
    import psychrnn_widgets.engine.sweep  # noqa: F401  binds engine.sweep to the module

    with pytest.raises(InvalidParameterError) as raised:
        engine.sweep(BASE, GRID, SEEDS, tmp_path, executor="dask")
    assert raised.value.field == "executor"


def test_run_ids_stable_and_distinct():
    first = expand_runs(SweepBase.from_dict(BASE), GRID, SEEDS)
    again = expand_runs(SweepBase.from_dict(BASE), GRID, SEEDS)
    changed = expand_runs(SweepBase.from_dict({**BASE, "network": {"N_rec": 9}}), GRID, SEEDS)
    assert [run.run_id for run in first] == [run.run_id for run in again]
    assert len({run.run_id for run in first}) == 4
    assert first[0].run_id.startswith("dale_ratio=0.8_seed=0-")
    assert not {run.run_id for run in first} & {run.run_id for run in changed}


@pytest.mark.parametrize(
    ("grid", "seeds", "message"),
    [
        ({"dale_ratoi": [0.8]}, [0], "unknown sweep setting 'dale_ratoi'; did you mean 'dale_ratio'?"),
        ({"network.N_recc": [4]}, [0], "unknown network setting 'N_recc' in grid key 'network.N_recc'; did you mean 'N_rec'?"),
        ({"netwrok.N_rec": [4]}, [0], "unknown section 'netwrok' in grid key 'netwrok.N_rec'; did you mean 'network'?; use task.NAME, network.NAME or training.NAME"),
        ({"seed": [1, 2]}, [0], "grid key 'seed' is not allowed: pass the seeds to sweep(seeds=...)"),
        ({"training.seed": [1]}, [0], "grid key 'training.seed' is not allowed: the seeds argument sets every seed"),
        ({"dale_ratio": 0.8}, [0], "grid['dale_ratio'] must be a list of values to try (got 0.8); put a fixed value in the base instead"),
        ({"dale_ratio": []}, [0], "grid['dale_ratio'] must contain at least one value (got none)"),
        (GRID, [0, 0], "seeds must be distinct (got 0 twice)"),
        (GRID, [-1], "every seed must be a non-negative integer (got -1)"),
        (GRID, [], "seeds must contain at least one seed (got none)"),
    ],
)
def test_expand_rejects(grid, seeds, message):
    with pytest.raises(InvalidParameterError) as raised:
        expand_runs(SweepBase.from_dict(BASE), grid, seeds)
    assert str(raised.value) == message


def test_expand_needs_stop_rule():
    base = SweepBase.from_dict({**BASE, "training": {"performance_cutoff": 0.9}})
    with pytest.raises(InvalidParameterError) as raised:
        expand_runs(base, GRID, SEEDS)
    assert raised.value.field == "training"
    assert "needs a stop rule" in str(raised.value)
    assert len(expand_runs(base, {"max_updates": [5]}, SEEDS)) == 2


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"tasks": "go_no_go"}, "unknown sweep base key 'tasks'; did you mean 'task'?"),
        ({"task": "perceptual_discriminaton"}, "unknown task 'perceptual_discriminaton'; did you mean 'perceptual_discrimination'?"),
        ({"network": {"dale": 0.8}}, "unknown network setting 'dale'; did you mean 'dale_out_inhibitory' or 'dale_ratio'?"),
        ({"network": {"seed": 3}}, "network.seed is set per run from the seeds argument of sweep(); remove it from the network settings"),
        ({"task_values": {"coherense": 0.1}}, "unknown task setting 'coherense'; did you mean 'coherence'?"),
        ({"eval_trials": 0}, "eval_trials must be an integer of at least 1 or None (got eval_trials=0)"),
        ({"jit_compile": "on"}, "jit_compile must be True, False or 'auto' (got jit_compile='on')"),
        ({"jit_compile": 1}, "jit_compile must be True, False or 'auto' (got jit_compile=1)"),
        ({"jit_compile": None}, "jit_compile must be True, False or 'auto' (got jit_compile=None)"),
    ],
)
def test_base_rejects(values, message):
    with pytest.raises(InvalidParameterError) as raised:
        SweepBase.from_dict(values)
    assert str(raised.value) == message


def test_jit_compile_error_names_the_field():
    with pytest.raises(InvalidParameterError) as raised:
        SweepBase(jit_compile="always")
    assert raised.value.field == "jit_compile"
    assert raised.value.value == "always"


def test_jit_compile_defaults_to_auto():
    assert SweepBase().jit_compile == "auto"
    (run,) = expand_runs(SweepBase.from_dict({**BASE, "jit_compile": True}), {}, [0])
    assert run.jit_compile is True
    assert run.to_dict()["jit_compile"] is True


@pytest.mark.parametrize(
    ("jit_compile", "max_updates", "max_trials", "N_batch", "expected"),
    [
        ("auto", XLA_MIN_UPDATES - 1, None, 32, False),
        ("auto", XLA_MIN_UPDATES, None, 32, True),
        # max_trials / N_batch rounded up: the trainer stops once it has seen max_trials trials.
        ("auto", None, (XLA_MIN_UPDATES - 1) * 32, 32, False),
        ("auto", None, (XLA_MIN_UPDATES - 1) * 32 + 1, 32, True),
        # With both stop rules the earlier one ends the run.
        ("auto", 10 * XLA_MIN_UPDATES, 32 * (XLA_MIN_UPDATES - 1), 32, False),
        ("auto", XLA_MIN_UPDATES - 1, 10**9, 32, False),
        ("auto", XLA_MIN_UPDATES, 10**9, 32, True),
        ("auto", None, None, 32, True),
        (True, 1, None, 32, True),
        (False, 10**6, None, 32, False),
    ],
)
def test_use_xla_rule(jit_compile, max_updates, max_trials, N_batch, expected):
    assert use_xla(jit_compile, max_updates, max_trials, N_batch) is expected


def test_sweep_rejects_bad_executor(tmp_path):
    with pytest.raises(InvalidParameterError) as raised:
        sweep(BASE, GRID, SEEDS, tmp_path, executor=object())
    assert str(raised.value) == (
        "executor must be None, a dask.distributed.Client or a concurrent.futures.Executor "
        "(got object)"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_workers": 0}, "max_workers must be an integer of at least 1 or None (got max_workers=0)"),
        ({"tf_threads": 0}, "tf_threads must be an integer of at least 1 (got tf_threads=0)"),
        ({"max_runs_per_worker": 0}, "max_runs_per_worker must be an integer of at least 1 or None (got max_runs_per_worker=0)"),
        ({"prefetch_batches": 1}, "prefetch_batches must be True, False or None (got 1)"),
        ({"retry_failed": "yes"}, "retry_failed must be True or False (got 'yes')"),
        ({"progress": 5}, "progress must be callable or None (got 5)"),
        ({"poll_interval": 0}, "poll_interval must be a number of seconds above 0 (got 0 s)"),
    ],
)
def test_sweep_rejects_options(tmp_path, options, message):
    with pytest.raises(InvalidParameterError) as raised:
        sweep(BASE, GRID, SEEDS, tmp_path / "out", **options)
    assert str(raised.value) == message
    assert not (tmp_path / "out").exists()


class FailingExecutor(cf.Executor):
    """An executor whose every call fails, as when a worker process is killed."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        future.set_exception(MemoryError("worker killed"))
        return future


def test_executor_failure_fails_each_run(tmp_path):
    updates = []
    table = sweep(BASE, GRID, SEEDS, tmp_path, executor=FailingExecutor(), progress=updates.append)
    assert table["status"].tolist() == ["failed"] * 4
    assert table["error"].tolist() == ["MemoryError: worker killed"] * 4
    assert table["accuracy"].isna().all()
    assert [u.kind for u in updates].count("failed") == 4
    assert updates[-1].kind == "done"


def test_updates_to_criterion():
    history = TrainingHistory()
    for update, accuracy in [(1, None), (2, 0.5), (3, None), (4, 0.95), (5, 0.99)]:
        history.append(update, update * 8, 0.1, accuracy, None)
    assert _updates_to_criterion(history, 0.9) == 4
    assert _updates_to_criterion(history, 0.995) is None
    assert _updates_to_criterion(history, None) is None


# Real sweeps: spawned worker processes, then a Dask LocalCluster


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    updates = []
    table = sweep(BASE, GRID, SEEDS, out, max_workers=2, progress=updates.append)
    return out, table, updates


def _weights(path):
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in WEIGHTS}


@pytest.mark.slow
def test_local_table(local_sweep):
    out, table, _ = local_sweep
    assert list(table.columns) == ["dale_ratio", *RESULT_COLUMNS]
    assert table["dale_ratio"].tolist() == [0.8, 0.8, 1.5, 1.5]
    assert table["seed"].tolist() == [0, 1, 0, 1]
    assert table["status"].tolist() == ["finished", "finished", "failed", "failed"]
    assert table["error"].tolist()[2:] == [DALE_ERROR, DALE_ERROR]
    assert table["updates"].tolist()[:2] == [4.0, 4.0]
    assert table["trials"].tolist()[:2] == [32.0, 32.0]
    assert table["resumed"].tolist() == [False] * 4
    assert table["updates_to_criterion"].isna().all()
    for row in table.itertuples():
        if row.status == "finished":
            assert Path(row.path) == out / row.run_id / "network.npz"
            assert row.wall_time_s > 0
            assert row.cpu_time_s > 0


@pytest.mark.slow
def test_local_metrics_match_files(local_sweep):
    from psychrnn_widgets.engine import load_network
    from psychrnn_widgets.tasks import get_task

    out, table, _ = local_sweep
    row = table.iloc[1]
    with np.load(row["path"], allow_pickle=False) as data:
        assert float(data["__history_loss__"][-1]) == pytest.approx(row["final_loss"], rel=1e-12)
        assert int(data["__seed__"]) == 1
        assert json.loads(str(data["extra/sweep_spec"]))["run_id"] == row["run_id"]
    network = load_network(row["path"])
    task = get_task("perceptual_discrimination", T=300.0, N_batch=8)
    batch = task.generate_batch(np.random.default_rng(EVAL_SEED))
    outputs, _ = network.run(batch.inputs, seed=EVAL_SEED)
    assert task.accuracy(outputs, batch) == row["accuracy"]

    metrics = json.loads((out / row["run_id"] / "metrics.json").read_text())
    assert metrics["status"] == "finished"
    assert metrics["settings"] == {"dale_ratio": 0.8}
    assert metrics["traceback"] is None
    # One TensorFlow thread per worker; the prefetch thread only when a core is left over.
    assert metrics["tf_threads"] == {"intra_op": 1, "inter_op": 1}
    assert metrics["prefetch_batches"] is (2 < (os.cpu_count() or 1))
    # "auto" chose a plain graph for these 4-update runs; the spec keeps the setting as given.
    assert metrics["jit_compile"] is False
    assert metrics["spec"]["jit_compile"] == "auto"
    failed = json.loads((out / table.iloc[2]["run_id"] / "metrics.json").read_text())
    assert failed["error"] == DALE_ERROR
    # The network failed to build, before the choice was made.
    assert failed["jit_compile"] is None
    assert "Traceback" in failed["traceback"]


@pytest.mark.slow
def test_local_progress_updates(local_sweep):
    _, table, updates = local_sweep
    kinds = [update.kind for update in updates]
    assert kinds[0] == "started"
    assert kinds[-1] == "done"
    assert all(update.total == 4 for update in updates)
    assert kinds.count("running") == 4
    assert kinds.count("finished") == 2
    assert kinds.count("failed") == 2
    assert {u.run_id for u in updates if u.kind == "failed"} == set(table["run_id"][2:])


@pytest.mark.slow
def test_resume_skips_finished(local_sweep, tmp_path):
    out, table, _ = local_sweep
    kept, lost = (Path(path) for path in table["path"][:2])
    kept_mtime = kept.stat().st_mtime_ns
    lost_weights = _weights(lost)
    # A run whose metrics file is missing was interrupted; the sweep must train it again.
    (lost.parent / "metrics.json").unlink()

    updates: list[SweepUpdate] = []
    # One run per worker process: each of the three runs trained here gets a fresh process.
    again = sweep(BASE, GRID, SEEDS, out, max_workers=2, max_runs_per_worker=1, progress=updates.append)
    assert again["resumed"].tolist() == [True, False, False, False]
    pids = [json.loads((out / run_id / "started.json").read_text())["pid"] for run_id in again["run_id"][1:]]
    assert len(set(pids)) == 3
    assert again["status"].tolist() == ["finished", "finished", "failed", "failed"]
    assert kept.stat().st_mtime_ns == kept_mtime
    assert [u.kind for u in updates].count("skipped") == 1
    retrained = _weights(lost)
    for name in WEIGHTS:
        assert np.array_equal(retrained[name], lost_weights[name]), name

    # Without retrying failures nothing trains: every row is read back.
    quiet = sweep(BASE, GRID, SEEDS, out, retry_failed=False)
    assert quiet["resumed"].tolist() == [True] * 4
    assert quiet["error"].tolist()[2:] == [DALE_ERROR, DALE_ERROR]
    assert quiet["accuracy"].tolist()[:2] == again["accuracy"].tolist()[:2]


@pytest.mark.slow
def test_dask_matches_local(local_sweep, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    _, local_table, _ = local_sweep
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        table = sweep(BASE, GRID, SEEDS, tmp_path, executor=client)
        assert client.status == "running"  # a given executor is left running
        run_pids = {json.loads((tmp_path / run_id / "started.json").read_text())["pid"] for run_id in table["run_id"]}
        worker_pids = set(client.run(os.getpid).values())

    assert run_pids <= worker_pids
    # On a given executor the trainers generate batches inline.
    metrics = json.loads((tmp_path / table["run_id"][0] / "metrics.json").read_text())
    assert metrics["prefetch_batches"] is False
    assert metrics["tf_threads"] == {"intra_op": 1, "inter_op": 1}
    assert metrics["jit_compile"] is False
    assert table["run_id"].tolist() == local_table["run_id"].tolist()
    assert table["status"].tolist() == ["finished", "finished", "failed", "failed"]
    assert table["error"].tolist()[2:] == [DALE_ERROR, DALE_ERROR]
    # Same seeds and one TensorFlow thread in both places: the weights are bit-identical.
    for dask_path, local_path in zip(table["path"][:2], local_table["path"][:2]):
        dask_weights, local_weights = _weights(dask_path), _weights(local_path)
        for name in WEIGHTS:
            assert np.array_equal(dask_weights[name], local_weights[name]), name
    assert table["final_loss"].tolist()[:2] == local_table["final_loss"].tolist()[:2]
    assert table["accuracy"].tolist()[:2] == local_table["accuracy"].tolist()[:2]
    assert not math.isnan(table["final_loss"][0])


@pytest.mark.slow
def test_diverging_run_fails(tmp_path):
    from psychrnn_widgets.engine._sweep_run import run_one

    # A linear network with spectral radius 50 overflows within 30 steps, so the first loss is
    # inf: the trainer rolls back and ends in state "failed" without raising.
    base = SweepBase.from_dict(
        {
            **BASE,
            "network": {"N_rec": 8, "transfer_function": "linear", "spec_rad": 50.0},
            "training": {"max_updates": 4, "clip": None},
        }
    )
    (spec,) = expand_runs(base, {}, [0])
    row = run_one(spec.to_dict(), str(tmp_path), tf_threads=None, prefetch_batches=False)
    assert row["status"] == "failed"
    assert row["error"].startswith("the loss became inf at update 1")
    assert row["updates"] == 0
    assert row["final_loss"] is None
    assert Path(row["path"]).exists()
    metrics = json.loads((tmp_path / spec.run_id / "metrics.json").read_text())
    assert metrics["status"] == "failed"
    assert metrics["traceback"] is None
    assert metrics["prefetch_batches"] is False
    # The run's setting does not outlive it in the calling process.
    assert prefetch_enabled() is True


@pytest.mark.slow
def test_single_worker_keeps_prefetch(tmp_path):
    table = sweep(BASE, {"dale_ratio": [0.8]}, [0], tmp_path, max_workers=1)
    assert table["status"].tolist() == ["finished"]
    metrics = json.loads((tmp_path / table["run_id"][0] / "metrics.json").read_text())
    # One worker leaves a core free for the prefetch thread on any machine with two or more.
    assert metrics["prefetch_batches"] is (1 < (os.cpu_count() or 1))
    assert metrics["tf_threads"] == {"intra_op": 1, "inter_op": 1}


@pytest.mark.slow
def test_auto_compiles_long_runs(tmp_path):
    from psychrnn_widgets.engine._sweep_run import run_one

    # The stop rule allows XLA_MIN_UPDATES updates, so "auto" compiles with XLA; a cutoff of 0
    # is met at the first accuracy check, which keeps the test short.
    training = {"max_updates": XLA_MIN_UPDATES, "eval_every": 2, "performance_cutoff": 0.0}
    (spec,) = expand_runs(SweepBase.from_dict({**BASE, "training": training}), {}, [0])
    row = run_one(spec.to_dict(), str(tmp_path), tf_threads=None, prefetch_batches=False)
    assert row["status"] == "finished"
    assert row["updates"] == 2
    assert "jit_compile" not in row
    metrics = json.loads((tmp_path / spec.run_id / "metrics.json").read_text())
    assert metrics["jit_compile"] is True
    assert metrics["spec"]["jit_compile"] == "auto"
