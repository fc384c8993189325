"""PsychRNN's biological-constraints and saving/loading examples against the compat layer."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import tensorflow as tf
from compat_helpers import small_params

from psychrnn_widgets.compat.backend.initializations import AlphaIdentity, GaussianSpectralRadius
from psychrnn_widgets.compat.backend.models.basic import Basic
from psychrnn_widgets.compat.tasks.perceptual_discrimination import PerceptualDiscrimination
from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError, WeightFileError

UNTRAINED_KEYS = {
    "init_state",
    "W_in",
    "W_rec",
    "W_out",
    "b_rec",
    "b_out",
    "Dale_rec",
    "Dale_out",
    "input_connectivity",
    "rec_connectivity",
    "output_connectivity",
}


def _modular_mask(n_rec: int) -> np.ndarray:
    """Block the connections between the first and second 2/5 of the units, both ways."""
    mask = np.ones((n_rec, n_rec))
    block = 2 * n_rec // 5
    mask[:block, block : 2 * block] = 0
    mask[block : 2 * block, :block] = 0
    return mask


def test_dale_signs_and_masks():
    mask = _modular_mask(10)
    model = Basic(small_params(dale_ratio=0.8, autapses=False, rec_connectivity=mask))
    weights = model.get_weights()
    assert np.all(weights["W_in"] >= 0)
    assert np.all(weights["W_rec"][:, :8] >= 0)
    assert np.all(weights["W_rec"][:, 8:] <= 0)
    assert np.all(weights["W_rec"][mask == 0] == 0)
    assert np.all(np.diag(weights["W_rec"]) == 0)
    # Inhibitory units do not reach the outputs (PsychRNN's main branch).
    assert np.all(weights["W_out"][:, 8:] == 0)
    assert np.all(weights["W_out"][:, :8] >= 0)
    np.testing.assert_array_equal(np.diag(weights["Dale_rec"]), [1] * 8 + [-1] * 2)
    np.testing.assert_array_equal(np.diag(weights["Dale_out"]), [1] * 8 + [0] * 2)
    assert weights["dale_ratio"] == 0.8
    # The caller's mask keeps its diagonal.
    assert np.all(np.diag(mask) == 1)


def test_fixed_weights_stay_fixed():
    task = PerceptualDiscrimination(10, 100, 300, 8)
    params = dict(task.get_task_params(), name="fixed", N_rec=10, dale_ratio=0.8)
    np.random.seed(5)
    model = Basic(params)
    fixed = np.zeros((10, 10))
    fixed[8:, :8] = 1  # E -> I
    fixed[:8, 8:] = 1  # I -> E
    before = model.get_weights()["W_rec"]
    model.train(task, {"training_iters": 40, "fixed_weights": {"W_rec": fixed}, "verbosity": False})
    after = model.get_weights()["W_rec"]
    np.testing.assert_array_equal(after[fixed == 1], before[fixed == 1])
    assert np.max(np.abs(after[fixed == 0] - before[fixed == 0])) > 0


def test_rebuild_from_edited_weights():
    model = Basic(small_params(dale_ratio=0.8))
    weights = model.get_weights()
    weights["W_rec"][:3, :3] = 0
    params = small_params(name="rebuilt")
    params.update(weights)
    rebuilt = Basic(params)
    np.testing.assert_allclose(rebuilt.get_weights()["W_rec"], weights["W_rec"], atol=1e-7)
    # Masks and Dale's law applied again to effective weights change nothing.
    for key in ("W_in", "W_out", "init_state", "b_rec"):
        np.testing.assert_allclose(rebuilt.get_weights()[key], weights[key], atol=1e-7)


@pytest.mark.parametrize("ratio", [-0.1, 1.5])
def test_bad_dale_ratio(ratio):
    with pytest.raises(
        InvalidParameterError,
        match=f"dale_ratio must be in \\[0, 1\\] or None \\(got dale_ratio={ratio}\\)",
    ):
        Basic(small_params(dale_ratio=ratio))


def test_bad_mask_shape():
    with pytest.raises(
        ShapeMismatchError,
        match=r"rec_connectivity must have shape \(10, 10\) \(got shape \(9, 10\)\)",
    ):
        Basic(small_params(rec_connectivity=np.ones((9, 10))))


def test_seeded_initial_weights_repeat():
    np.random.seed(11)
    first = Basic(small_params()).get_weights()
    np.random.seed(11)
    second = Basic(small_params()).get_weights()
    for key in ("W_in", "W_rec", "W_out", "init_state"):
        np.testing.assert_array_equal(first[key], second[key])


def test_alpha_identity_uses_task_alpha():
    params = small_params(alpha=0.1)
    initializer = AlphaIdentity(**params)
    np.testing.assert_allclose(initializer.initializations["W_rec"], 0.1 * np.eye(10))
    model = Basic({**params, "initializer": initializer})
    np.testing.assert_allclose(model.get_weights()["W_rec"], 0.1 * np.eye(10), atol=1e-7)


def test_spectral_radius_key():
    initializer = GaussianSpectralRadius(**small_params(spec_rad=0.5))
    radius = np.max(np.abs(np.linalg.eigvals(initializer.initializations["W_rec"])))
    assert radius == pytest.approx(0.5)


def test_saved_keys_and_no_pickle(tmp_path):
    model = Basic(small_params())
    model.save(tmp_path / "plain")
    with np.load(tmp_path / "plain.npz", allow_pickle=False) as data:
        assert set(data.files) == UNTRAINED_KEYS | {"transfer_function_name", "saved_by"}
        assert str(data["transfer_function_name"]) == "relu"
        assert data["W_rec"].dtype == np.float32
        assert data["init_state"].shape == (1, 10)
    dale = Basic(small_params(name="dale", dale_ratio=0.8))
    dale.save(tmp_path / "dale.npz")
    with np.load(tmp_path / "dale.npz", allow_pickle=False) as data:
        assert float(data["dale_ratio"]) == 0.8
        assert "dale_ratio" in data.files


def test_load_weights_path_round_trip(tmp_path):
    model = Basic(small_params(dale_ratio=0.8, rec_connectivity=_modular_mask(10)))
    model.save(tmp_path / "saved_weights")
    weights = dict(np.load(tmp_path / "saved_weights.npz"))
    weights["W_rec"][:4, :4] = 0
    np.savez(tmp_path / "edited.npz", **weights)
    x = np.random.default_rng(1).normal(size=(3, 30, 2))

    loaded = Basic(
        small_params(name="loaded", load_weights_path=str(tmp_path / "saved_weights.npz"))
    )
    np.testing.assert_allclose(loaded.test(x)[0], model.test(x)[0], atol=1e-6)
    assert loaded.dale_ratio == 0.8

    edited = Basic(small_params(name="edited", load_weights_path=str(tmp_path / "edited.npz")))
    assert np.all(edited.get_weights()["W_rec"][:4, :4] == 0)


def test_psychrnn_style_file_loads(tmp_path):
    model = Basic(small_params())
    weights = {
        k: v for k, v in model.get_weights().items() if k not in ("dale_ratio", "transfer_function")
    }
    # PsychRNN's main branch pickles dale_ratio=None and the transfer function.
    np.savez(
        tmp_path / "psychrnn.npz",
        dale_ratio=np.array(None, dtype=object),
        transfer_function=np.array(tf.nn.tanh, dtype=object),
        **weights,
    )
    loaded = Basic(small_params(name="loaded", load_weights_path=str(tmp_path / "psychrnn.npz")))
    assert loaded.dale_ratio is None
    assert loaded.transfer_function.__name__ == "tanh"


class Payload:
    """An object whose unpickling would have a side effect."""

    def __reduce__(self):
        return (print, ("unpickled",))


def test_foreign_pickle_rejected(tmp_path, capsys):
    model = Basic(small_params())
    weights = {
        k: v for k, v in model.get_weights().items() if k not in ("dale_ratio", "transfer_function")
    }
    np.savez(tmp_path / "hostile.npz", dale_ratio=np.array(Payload(), dtype=object), **weights)
    with zipfile.ZipFile(tmp_path / "hostile.npz") as archive:
        assert b"print" in archive.read("dale_ratio.npy")
    with pytest.raises(
        WeightFileError, match="refers to builtins.print, which is not an allowed value"
    ):
        Basic(small_params(name="hostile", load_weights_path=str(tmp_path / "hostile.npz")))
    assert "unpickled" not in capsys.readouterr().out


def test_missing_dale_ratio_warns(tmp_path):
    model = Basic(small_params())
    weights = {
        k: v for k, v in model.get_weights().items() if k not in ("dale_ratio", "transfer_function")
    }
    np.savez(tmp_path / "old.npz", **weights)
    with pytest.warns(UserWarning, match="has no 'dale_ratio' entry"):
        loaded = Basic(small_params(name="old", load_weights_path=str(tmp_path / "old.npz")))
    assert loaded.dale_ratio is None
