"""Weight files: exact round trip, atomic writes, PsychRNN files, and rejected payloads."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine import NetworkConfig, build_network, load_network, save_network
from psychrnn_widgets.engine.io import read_weight_file
from psychrnn_widgets.errors import InvalidParameterError, WeightFileError


def constrained_network(**changes):
    values = dict(
        N_in=2,
        N_rec=6,
        N_out=2,
        dale_ratio=0.5,
        autapses=False,
        tau=np.linspace(30, 120, 6),
        rec_connectivity=np.triu(np.ones((6, 6))),
        transfer_function="tanh",
        seed=8,
        rec_noise=0.05,
    )
    values.update(changes)
    return build_network(NetworkConfig(**values))


def test_round_trip_exact(tmp_path):
    network = constrained_network()
    network.set_weights({"b_rec": np.linspace(-1, 1, 6)})
    path = save_network(tmp_path / "net.npz", network)
    loaded = load_network(path)
    for name, value in network.get_weights().items():
        assert np.array_equal(loaded.get_weights()[name], value)
    assert loaded.config == network.config
    assert loaded.seed == network.seed
    inputs = np.random.default_rng(0).normal(size=(3, 25, 2))
    for expected, actual in zip(network.run(inputs, seed=1), loaded.run(inputs, seed=1)):
        assert np.array_equal(expected, actual)


def test_round_trip_float64_and_random_seed(tmp_path):
    network = build_network(NetworkConfig(N_in=1, N_rec=3, N_out=1, dtype="float64"))
    loaded = load_network(save_network(tmp_path / "x", network))
    assert loaded.seed == network.seed
    assert loaded.get_weights()["W_rec"].dtype == np.float64
    assert np.array_equal(loaded.get_weights()["W_rec"], network.get_weights()["W_rec"])


def test_suffix_added(tmp_path):
    path = save_network(tmp_path / "weights", constrained_network())
    assert path == tmp_path / "weights.npz"
    assert path.is_file()


def test_no_object_arrays_and_metadata(tmp_path):
    history = SimpleNamespace(
        update=[10, 20], trials=[500, 1000], loss=[0.3, 0.2], accuracy=[float("nan"), 0.75]
    )
    path = save_network(
        tmp_path / "h.npz",
        constrained_network(),
        trainer=history,
        extra={"note": "demo", "ids": [1, 2]},
    )
    with np.load(path, allow_pickle=False) as archive:
        contents = {key: archive[key] for key in archive.files}
    assert contents["__history_loss__"].tolist() == [0.3, 0.2]
    assert contents["__history_trials__"].tolist() == [500, 1000]
    assert np.isnan(contents["__history_accuracy__"][0])
    assert str(contents["extra/note"]) == "demo"
    assert contents["extra/ids"].tolist() == [1, 2]
    assert int(contents["__seed__"]) == 8
    assert "tensorflow" in str(contents["__versions__"])
    assert all(not value.dtype.hasobject for value in contents.values())


def test_trainer_history_attribute(tmp_path):
    trainer = SimpleNamespace(
        history=SimpleNamespace(update=[1], trials=[50], loss=[1.5], accuracy=[None]),
        config=SimpleNamespace(seed=4),
    )
    path = save_network(tmp_path / "t.npz", constrained_network(), trainer=trainer)
    with np.load(path, allow_pickle=False) as archive:
        assert archive["__history_loss__"].tolist() == [1.5]
        assert np.isnan(archive["__history_accuracy__"][0])
        assert int(archive["__trainer_seed__"]) == 4


def test_atomic_replace_leaves_no_temporary(tmp_path):
    path = tmp_path / "net.npz"
    save_network(path, constrained_network(seed=1))
    save_network(path, constrained_network(seed=2))
    assert sorted(os.listdir(tmp_path)) == ["net.npz"]
    assert load_network(path).seed == 2


def test_failed_save_keeps_old_file(tmp_path):
    path = save_network(tmp_path / "net.npz", constrained_network(seed=1))
    before = path.read_bytes()
    with pytest.raises(
        InvalidParameterError, match=r"extra\['bad'\] must be a numeric or string array"
    ):
        save_network(
            path, constrained_network(seed=2), extra={"bad": np.array([object()], dtype=object)}
        )
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["net.npz"]


def psychrnn_file(path, dale_ratio=None, transfer=None, dale_out=None, replace=None):
    """Write a file with PsychRNN's keys, object entries included, as PsychRNN's save does."""
    rng = np.random.default_rng(0)
    n_rec = 4
    entries = {
        "W_in": rng.normal(size=(n_rec, 2)),
        "W_rec": rng.normal(size=(n_rec, n_rec)),
        "W_out": rng.normal(size=(1, n_rec)),
        "b_rec": np.zeros(n_rec),
        "b_out": np.zeros(1),
        "init_state": rng.normal(size=(1, n_rec)),
        "input_connectivity": np.ones((n_rec, 2)),
        "rec_connectivity": np.ones((n_rec, n_rec)),
        "output_connectivity": np.ones((1, n_rec)),
        "Dale_rec": np.eye(n_rec),
        "Dale_out": np.eye(n_rec),
        "W_rec/Adam": np.zeros((n_rec, n_rec)),
        "W_rec/Adam_1": np.zeros((n_rec, n_rec)),
        "dale_ratio": np.array(dale_ratio, dtype=object)
        if dale_ratio is None
        else np.float64(dale_ratio),
    }
    if dale_ratio is not None:
        n_e = int(dale_ratio * n_rec)
        signs = np.array([1.0] * n_e + [-1.0] * (n_rec - n_e))
        entries["Dale_rec"] = np.diag(signs)
        entries["Dale_out"] = np.diag(signs if dale_out == -1 else np.maximum(signs, 0))
        entries["W_rec"] = np.abs(entries["W_rec"]) @ entries["Dale_rec"]
        entries["W_out"] = np.abs(entries["W_out"]) @ entries["Dale_out"]
        entries["W_in"] = np.abs(entries["W_in"])
    if transfer is not None:
        entries["transfer_function"] = np.array(transfer, dtype=object)
    entries.update(replace or {})
    np.savez(path, **entries)
    return entries


def test_psychrnn_file_dale_none(tmp_path):
    entries = psychrnn_file(tmp_path / "p.npz")
    network = load_network(tmp_path / "p.npz")
    assert network.config.dale_ratio is None
    assert network.config.transfer_function == "relu"
    assert (network.config.dt, network.config.tau) == (10.0, 100.0)
    np.testing.assert_array_equal(
        network.effective_weights()["W_rec"], entries["W_rec"].astype(np.float32)
    )


@pytest.mark.parametrize(("dale_out", "expected"), [(0, 0.0), (-1, -1.0)])
def test_psychrnn_file_with_dale(tmp_path, dale_out, expected):
    entries = psychrnn_file(tmp_path / "p.npz", dale_ratio=0.5, dale_out=dale_out)
    network = load_network(tmp_path / "p.npz", dt=20.0, tau=50.0)
    assert network.config.dale_out_inhibitory == expected
    assert network.config.alpha == 0.4
    effective = network.effective_weights()
    for name in ("W_in", "W_rec", "W_out"):
        np.testing.assert_array_equal(effective[name], entries[name].astype(np.float32))


@pytest.mark.parametrize(
    ("function", "name"),
    [
        (tf.nn.tanh, "tanh"),
        (tf.nn.relu, "relu"),
        (tf.math.sigmoid, "sigmoid"),
        (tf.identity, "linear"),
    ],
)
def test_psychrnn_head_transfer_function(tmp_path, function, name):
    psychrnn_file(tmp_path / "p.npz", transfer=function)
    assert load_network(tmp_path / "p.npz").config.transfer_function == name


class CreatesMarker:
    """Unpickling this object would run ``open(marker, 'w')``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("key", ["transfer_function", "dale_ratio", "W_rec"])
def test_code_payload_not_run(tmp_path, key):
    marker = tmp_path / "marker"
    psychrnn_file(tmp_path / "p.npz", replace={key: np.array(CreatesMarker(marker), dtype=object)})
    with pytest.raises(
        WeightFileError, match=r"refers to (io|builtins)\.open, which is not an allowed value"
    ):
        load_network(tmp_path / "p.npz")
    assert not marker.exists()


def test_other_object_rejected(tmp_path):
    psychrnn_file(
        tmp_path / "p.npz", replace={"transfer_function": np.array({"a": 1}, dtype=object)}
    )
    with pytest.raises(WeightFileError, match="opcode"):
        load_network(tmp_path / "p.npz")


def test_truncated_file(tmp_path):
    path = save_network(tmp_path / "net.npz", constrained_network())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightFileError, match="unreadable or truncated"):
        load_network(path)


def test_folder_and_missing(tmp_path):
    with pytest.raises(WeightFileError, match="is a folder, not a file"):
        load_network(tmp_path)
    with pytest.raises(WeightFileError, match="not found"):
        load_network(tmp_path / "none.npz")


def test_not_a_zip(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("hello")
    with pytest.raises(WeightFileError, match="unreadable or truncated"):
        load_network(path)


def test_wrong_shape_rejected(tmp_path):
    psychrnn_file(tmp_path / "p.npz", replace={"W_rec": np.zeros((4, 3))})
    with pytest.raises(WeightFileError, match=r"'W_rec' has shape \(4, 3\), expected \(4, 4\)"):
        load_network(tmp_path / "p.npz")


def test_inconsistent_dale_rejected(tmp_path):
    psychrnn_file(tmp_path / "p.npz", dale_ratio=0.5, replace={"Dale_rec": np.eye(4)})
    with pytest.raises(WeightFileError, match="does not match dale_ratio=0.5"):
        load_network(tmp_path / "p.npz")


def test_custom_transfer_needs_argument(tmp_path):
    def squared(x):
        return tf.square(x)

    path = save_network(
        tmp_path / "c.npz",
        build_network(NetworkConfig(N_in=1, N_rec=2, N_out=1, transfer_function=squared)),
    )
    with pytest.raises(
        WeightFileError,
        match=r"custom transfer function 'squared'.*load_network\(path, transfer_function=\.\.\.\)",
    ):
        load_network(path)
    assert load_network(path, transfer_function=squared).config.transfer_function is squared


def test_initial_weights_from_file(tmp_path):
    source = constrained_network()
    path = save_network(tmp_path / "w.npz", source)
    config = source.config.replace(initial_weights=str(path), seed=99)
    network = build_network(config)
    assert np.array_equal(network.get_weights()["W_rec"], source.get_weights()["W_rec"])


def test_read_weight_file_lists_entries(tmp_path):
    psychrnn_file(tmp_path / "p.npz")
    entries = read_weight_file(Path(tmp_path / "p.npz"))
    assert entries["dale_ratio"] is None
    assert "W_rec/Adam" in entries
