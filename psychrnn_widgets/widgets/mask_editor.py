"""Connectivity mask editor: a clickable grid for the recurrent, input and output masks."""

from __future__ import annotations

import logging
from typing import Any

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.widgets._guard import StatusLine, guarded

__all__ = ["MaskEditor", "MATRICES", "PRESETS"]

logger = logging.getLogger(__name__)

MATRICES = ("W_rec", "W_in", "W_out")
PRESETS = {
    "all_to_all": "All to all",
    "random_sparse": "Random sparse",
    "modules": "Modules on the diagonal",
    "no_autapses": "No autapses",
}
# Colour index: 0 no connection, 1 trained connection, 2 connection with a frozen weight.
_COLORS = ["#f2f2f2", "#2b6cb0", "#dd6b20"]
_EI_COLORS = ["#c53030", "#2f855a"]


class MaskEditor(widgets.VBox):
    """Edit 0/1 connectivity masks and the fixed-weight marks of a network.

    A click on a cell toggles it (``mode="click"``); in ``mode="block"`` the first click picks a
    corner and the second click paints the rectangle between them with ``paint``. ``layer``
    chooses what a click edits: the connection itself or its "fixed weight" mark (frozen
    during training). Shapes follow PsychRNN: ``W_rec (N_rec, N_rec)``, ``W_in (N_rec, N_in)``,
    ``W_out (N_out, N_rec)``.

    Parameters
    ----------
    N_rec, N_in, N_out
        Network sizes.
    dale_ratio
        Fraction of excitatory units, or None when Dale's law is off; the first
        ``round(dale_ratio * N_rec)`` units are excitatory and marked above the grid.
    seed
        Seed of the random sparse preset.
    """

    N_rec = traitlets.Int(50, help="Number of recurrent units.")
    N_in = traitlets.Int(1, help="Number of input channels.")
    N_out = traitlets.Int(1, help="Number of output channels.")
    matrix = traitlets.Enum(MATRICES, "W_rec", help="Mask shown in the grid.")
    mode = traitlets.Enum(("click", "block"), "click", help="What a click does.")
    layer = traitlets.Enum(("connectivity", "fixed"), "connectivity", help="What a click edits.")
    paint = traitlets.Enum(("connect", "disconnect"), "connect", help="Value painted in block mode.")
    dale_ratio = traitlets.Float(None, allow_none=True, help="Excitatory fraction, None = off.")
    density = traitlets.Float(0.2, min=0.0, max=1.0, help="Connection probability of the sparse preset.")
    modules = traitlets.Int(2, min=1, help="Number of diagonal blocks of the modules preset.")
    masks = traitlets.Dict(help="Matrix name -> 0/1 float32 connectivity array.")
    fixed = traitlets.Dict(help="Matrix name -> 0/1 float32 array, 1 = weight frozen.")
    corner = traitlets.Any(None, help="First corner (row, column) of a block, or None.")

    def __init__(
        self,
        N_rec: int = 50,
        N_in: int = 1,
        N_out: int = 1,
        dale_ratio: float | None = None,
        seed: int | None = 0,
        status: StatusLine | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.add_class("prw-mask-editor")
        self.status = status if status is not None else StatusLine()
        self._rng = np.random.default_rng(seed)
        with self.hold_trait_notifications():
            self.N_rec, self.N_in, self.N_out = N_rec, N_in, N_out
            self.dale_ratio = dale_ratio
        self._reset_arrays()
        self._build()
        self._redraw()

    def shape(self, name: str) -> tuple[int, int]:
        """Return the (rows, columns) of matrix ``name``."""
        shapes = {
            "W_rec": (self.N_rec, self.N_rec),
            "W_in": (self.N_rec, self.N_in),
            "W_out": (self.N_out, self.N_rec),
        }
        return shapes[name]

    def connectivity(self) -> dict[str, np.ndarray]:
        """Return the masks under their NetworkConfig names (``rec_connectivity``...)."""
        keys = {"W_rec": "rec_connectivity", "W_in": "input_connectivity",
                "W_out": "output_connectivity"}
        return {keys[name]: self.masks[name].copy() for name in MATRICES}

    def fixed_weights(self) -> dict[str, np.ndarray]:
        """Return the frozen-weight marks that contain at least one 1 (for TrainingConfig)."""
        return {name: a.copy() for name, a in self.fixed.items() if a.any()}

    def set_mask(self, name: str, mask: Any) -> None:
        """Replace the mask of ``name`` with a 0/1 array of the right shape."""
        self.masks = {**self.masks, name: self._checked(name, mask, "connectivity")}

    def set_fixed(self, name: str, fixed: Any) -> None:
        """Replace the fixed-weight marks of ``name``."""
        self.fixed = {**self.fixed, name: self._checked(name, fixed, "fixed weights")}

    def toggle(self, row: int, column: int) -> None:
        """Flip one entry of the current matrix in the current layer."""
        array = self._layer_array().copy()
        array[row, column] = 1.0 - array[row, column]
        self._store(array)

    def paint_block(self, first: tuple[int, int], second: tuple[int, int], value: float) -> None:
        """Set every entry between two corners (inclusive) of the current matrix to ``value``."""
        (r0, c0), (r1, c1) = first, second
        rows = slice(min(r0, r1), max(r0, r1) + 1)
        columns = slice(min(c0, c1), max(c0, c1) + 1)
        array = self._layer_array().copy()
        array[rows, columns] = value
        self._store(array)

    def apply_preset(self, preset: str) -> None:
        """Replace the current connectivity mask by a preset (see ``PRESETS``)."""
        if preset not in PRESETS:
            raise InvalidParameterError(
                "preset", f"preset must be one of {', '.join(PRESETS)} (got {preset!r})", preset
            )
        rows, columns = self.shape(self.matrix)
        mask = self.masks[self.matrix].copy()
        if preset == "all_to_all":
            mask[:] = 1.0
        elif preset == "random_sparse":
            mask = (self._rng.random((rows, columns)) < self.density).astype(np.float32)
        elif preset == "modules":
            mask[:] = 0.0
            row_edges = np.linspace(0, rows, self.modules + 1).round().astype(int)
            column_edges = np.linspace(0, columns, self.modules + 1).round().astype(int)
            for k in range(self.modules):
                mask[row_edges[k]:row_edges[k + 1], column_edges[k]:column_edges[k + 1]] = 1.0
        elif preset == "no_autapses":
            if self.matrix != "W_rec":
                raise InvalidParameterError(
                    "preset", f"no_autapses applies to W_rec only (got matrix={self.matrix})"
                )
            np.fill_diagonal(mask, 0.0)
        self.set_mask(self.matrix, mask)

    def _checked(self, name: str, array: Any, what: str) -> np.ndarray:
        if name not in MATRICES:
            raise InvalidParameterError("matrix", f"matrix must be one of {MATRICES} (got {name!r})")
        result = np.asarray(array, dtype=np.float32)
        if result.shape != self.shape(name):
            raise InvalidParameterError(
                name, f"{name} {what} must have shape {self.shape(name)} (got {result.shape})"
            )
        if not np.isin(result, (0.0, 1.0)).all():
            raise InvalidParameterError(name, f"{name} {what} must contain only 0 and 1")
        return result

    def _layer_array(self) -> np.ndarray:
        source = self.masks if self.layer == "connectivity" else self.fixed
        return source[self.matrix]

    def _store(self, array: np.ndarray) -> None:
        if self.layer == "connectivity":
            self.masks = {**self.masks, self.matrix: array}
        else:
            self.fixed = {**self.fixed, self.matrix: array}

    @traitlets.observe("N_rec", "N_in", "N_out")
    def _on_size(self, change: Any) -> None:
        if hasattr(self, "grid"):
            self.corner = None
            self._reset_arrays()

    def _reset_arrays(self) -> None:
        self.masks = {name: np.ones(self.shape(name), np.float32) for name in MATRICES}
        self.fixed = {name: np.zeros(self.shape(name), np.float32) for name in MATRICES}

    def _build(self) -> None:
        self._grid_scales = {
            "row": bqplot.OrdinalScale(reverse=True),
            "column": bqplot.OrdinalScale(),
            "color": bqplot.ColorScale(colors=_COLORS, min=0, max=2),
        }
        self.grid = bqplot.GridHeatMap(
            color=np.zeros((2, 2)), scales=self._grid_scales, stroke="white", null_color="white"
        )
        self.grid.on_element_click(self._on_click)
        self.ei_strip = bqplot.GridHeatMap(
            color=np.zeros((2, 2)),
            scales={
                "row": bqplot.OrdinalScale(),
                "column": bqplot.OrdinalScale(),
                "color": bqplot.ColorScale(colors=_EI_COLORS, min=0, max=1),
            },
            stroke="white",
        )
        self.figure = bqplot.Figure(
            marks=[self.grid], animation_duration=0, padding_y=0, fig_margin=dict(top=10, bottom=10, left=10, right=10),
            layout=widgets.Layout(width="420px", height="420px"),
        )
        self.figure.add_class("prw-mask-figure")
        self.ei_figure = bqplot.Figure(
            marks=[self.ei_strip], animation_duration=0, padding_y=0,
            fig_margin=dict(top=0, bottom=0, left=10, right=10),
            layout=widgets.Layout(width="420px", height="30px"),
        )
        self.ei_figure.add_class("prw-ei-strip")

        matrix = widgets.ToggleButtons(options=list(MATRICES), description="Matrix")
        mode = widgets.ToggleButtons(options=[("Click", "click"), ("Block", "block")], description="Mode")
        layer = widgets.ToggleButtons(
            options=[("Connections", "connectivity"), ("Fixed weights", "fixed")], description="Edit"
        )
        paint = widgets.ToggleButtons(
            options=[("Connect", "connect"), ("Disconnect", "disconnect")], description="Paint"
        )
        for control, name in ((matrix, "matrix"), (mode, "mode"), (layer, "layer"), (paint, "paint")):
            widgets.link((self, name), (control, "value"))
            control.add_class(f"prw-mask-{name}")
        self.preset = widgets.Dropdown(options=[(v, k) for k, v in PRESETS.items()], description="Preset")
        self.preset.add_class("prw-mask-preset")
        density = widgets.FloatSlider(min=0.0, max=1.0, step=0.05, description="Density")
        density.add_class("prw-mask-density")
        widgets.link((self, "density"), (density, "value"))
        modules = widgets.BoundedIntText(min=1, max=100, description="Modules")
        widgets.link((self, "modules"), (modules, "value"))
        self.apply_button = widgets.Button(description="Apply preset")
        self.apply_button.add_class("prw-mask-apply")
        self.apply_button.on_click(self._on_apply)
        self.children = [
            widgets.HBox([matrix, layer]),
            widgets.HBox([mode, paint]),
            widgets.HBox([self.preset, density, modules, self.apply_button]),
            self.ei_figure,
            self.figure,
        ]

    @traitlets.observe("masks", "fixed", "matrix", "dale_ratio")
    def _on_data(self, change: Any) -> None:
        if hasattr(self, "grid"):
            self._redraw()

    @guarded("Mask editor")
    def _redraw(self) -> None:
        rows, columns = self.shape(self.matrix)
        if self.masks[self.matrix].shape != (rows, columns):
            return
        color = self.masks[self.matrix] * (1.0 + self.fixed[self.matrix])
        # bqplot squeezes a one-row or one-column colour array to 1-D and then rejects it, so a
        # single row or column gets a blank (NaN, drawn in null_color) neighbour.
        if rows == 1:
            color = np.vstack([color, np.full((1, columns), np.nan)])
        if columns == 1:
            color = np.hstack([color, np.full((color.shape[0], 1), np.nan)])
        # One assignment of the whole colour array: per-cell updates would send N_rec**2 messages.
        # hold_trait_notifications defers bqplot's row/column/colour size checks to the end.
        with self.grid.hold_sync(), self.grid.hold_trait_notifications():
            self.grid.color = color
            self.grid.row = np.arange(color.shape[0])
            self.grid.column = np.arange(color.shape[1])
        # Columns of W_rec and W_out are the sending units, whose sign Dale's law fixes; the
        # columns of W_in are input channels, so the strip is hidden there.
        show_ei = self.dale_ratio is not None and self.matrix != "W_in"
        self.ei_figure.layout.display = None if show_ei else "none"
        if show_ei:
            excitatory = int(round(self.dale_ratio * self.N_rec))
            kinds = (np.arange(self.N_rec) < excitatory).astype(float)[None, :]
            with self.ei_strip.hold_sync(), self.ei_strip.hold_trait_notifications():
                # Two equal rows: bqplot squeezes a one-row colour array to 1-D.
                self.ei_strip.color = np.repeat(kinds, 2, axis=0)
                self.ei_strip.row = np.arange(2)
                self.ei_strip.column = np.arange(kinds.shape[1])

    @guarded("Mask editor")
    def _on_click(self, mark: Any, content: dict) -> None:
        data = content.get("data", {})
        row, column = int(data["rowNum"]), int(data["columnNum"])
        rows, columns = self.shape(self.matrix)
        if not (0 <= row < rows and 0 <= column < columns):
            raise InvalidParameterError(
                "cell", f"cell ({row}, {column}) is outside the {rows}x{columns} {self.matrix} grid"
            )
        if self.mode == "click":
            self.toggle(row, column)
            return
        if self.corner is None:
            self.corner = (row, column)
            self.status.show(f"Block corner ({row}, {column}) chosen: click the opposite corner.")
            return
        first, self.corner = self.corner, None
        self.paint_block(first, (row, column), 1.0 if self.paint == "connect" else 0.0)
        self.status.show(f"Painted block {first} to ({row}, {column}).")

    @guarded("Apply preset")
    def _on_apply(self, button: Any) -> None:
        self.apply_preset(self.preset.value)
