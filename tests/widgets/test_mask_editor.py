import numpy as np
import pytest

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.widgets.mask_editor import MaskEditor


def click(editor, row, column):
    editor.grid._handle_custom_msgs(
        None, {"event": "element_click", "data": {"rowNum": row, "columnNum": column}}
    )


def test_click_toggles_one_connection():
    editor = MaskEditor(N_rec=6, N_in=2, N_out=1)
    click(editor, 2, 4)
    expected = np.ones((6, 6), np.float32)
    expected[2, 4] = 0.0
    np.testing.assert_array_equal(editor.masks["W_rec"], expected)
    np.testing.assert_array_equal(editor.grid.color, expected)
    click(editor, 2, 4)
    assert editor.masks["W_rec"].sum() == 36.0


def test_block_mode_paints_rectangle():
    editor = MaskEditor(N_rec=8)
    editor.mode = "block"
    editor.paint = "disconnect"
    click(editor, 5, 1)
    assert editor.corner == (5, 1)
    assert editor.masks["W_rec"].sum() == 64.0
    click(editor, 2, 3)
    assert editor.corner is None
    mask = editor.masks["W_rec"]
    assert mask[2:6, 1:4].sum() == 0.0
    assert mask.sum() == 64.0 - 12.0
    assert editor.status.message == "Painted block (5, 1) to (2, 3)."


def test_fixed_layer_marks_frozen_weights():
    editor = MaskEditor(N_rec=4)
    editor.layer = "fixed"
    click(editor, 0, 1)
    assert editor.fixed["W_rec"][0, 1] == 1.0
    assert editor.masks["W_rec"].sum() == 16.0
    assert editor.grid.color[0, 1] == 2.0
    assert list(editor.fixed_weights()) == ["W_rec"]


def test_input_and_output_matrices():
    editor = MaskEditor(N_rec=5, N_in=3, N_out=2)
    editor.matrix = "W_in"
    click(editor, 4, 2)
    assert editor.masks["W_in"].shape == (5, 3)
    assert editor.masks["W_in"][4, 2] == 0.0
    editor.matrix = "W_out"
    click(editor, 1, 3)
    assert editor.masks["W_out"][1, 3] == 0.0
    conn = editor.connectivity()
    assert sorted(conn) == ["input_connectivity", "output_connectivity", "rec_connectivity"]
    assert conn["rec_connectivity"].sum() == 25.0


def test_single_column_matrix_is_drawn():
    editor = MaskEditor(N_rec=5, N_in=1, N_out=1)
    editor.matrix = "W_in"
    assert editor.grid.color.shape == (5, 2)
    assert np.isnan(editor.grid.color[:, 1]).all()
    assert editor.status.message == ""


def test_click_outside_grid_shows_message():
    editor = MaskEditor(N_rec=5, N_in=1)
    editor.matrix = "W_in"
    click(editor, 0, 1)
    assert editor.status.level == "error"
    assert editor.status.message == "Mask editor: cell (0, 1) is outside the 5x1 W_in grid"
    assert editor.masks["W_in"].sum() == 5.0


@pytest.mark.parametrize(
    ("preset", "expected_sum"),
    [("all_to_all", 100.0), ("modules", 50.0), ("no_autapses", 89.0)],
)
def test_presets(preset, expected_sum):
    editor = MaskEditor(N_rec=10)
    editor.modules = 2
    editor.toggle(0, 9)
    editor.apply_preset(preset)
    assert editor.masks["W_rec"].sum() == expected_sum


def test_random_sparse_density():
    editor = MaskEditor(N_rec=100, seed=1)
    editor.density = 0.1
    editor.preset.value = "random_sparse"
    editor.apply_button.click()
    fraction = editor.masks["W_rec"].mean()
    assert 0.08 < fraction < 0.12
    np.testing.assert_array_equal(editor.grid.color, editor.masks["W_rec"])


def test_no_autapses_rejected_on_input_mask():
    editor = MaskEditor(N_rec=4, N_in=2)
    editor.matrix = "W_in"
    with pytest.raises(InvalidParameterError, match="no_autapses applies to W_rec only"):
        editor.apply_preset("no_autapses")


def test_set_mask_checks_shape_and_values():
    editor = MaskEditor(N_rec=3)
    with pytest.raises(InvalidParameterError, match=r"W_rec connectivity must have shape \(3, 3\)"):
        editor.set_mask("W_rec", np.ones((2, 2)))
    with pytest.raises(InvalidParameterError, match="must contain only 0 and 1"):
        editor.set_mask("W_rec", np.full((3, 3), 0.5))


def test_dale_strip_marks_excitatory_units():
    editor = MaskEditor(N_rec=10, dale_ratio=0.8)
    assert editor.ei_figure.layout.display is None
    np.testing.assert_array_equal(editor.ei_strip.color[0], [1] * 8 + [0] * 2)
    editor.dale_ratio = None
    assert editor.ei_figure.layout.display == "none"


def test_resize_resets_masks():
    editor = MaskEditor(N_rec=4)
    editor.toggle(0, 0)
    editor.N_rec = 7
    assert editor.masks["W_rec"].shape == (7, 7)
    assert editor.masks["W_rec"].sum() == 49.0
    assert editor.grid.color.shape == (7, 7)


def test_hundred_units_click_is_fast():
    import time

    editor = MaskEditor(N_rec=100)
    start = time.perf_counter()
    for column in range(20):
        click(editor, 50, column)
    per_click = (time.perf_counter() - start) / 20
    assert editor.masks["W_rec"][50, :20].sum() == 0.0
    assert per_click < 0.05
