"""One form field per declared parameter: the control that fits its kind, units, help, error."""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import traitlets

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import Param
from psychrnn_widgets.widgets._guard import StatusLine, guarded

__all__ = ["ParamField", "parse_float_list"]

logger = logging.getLogger(__name__)

# A slider only where the range is bounded on both sides and small enough to drag through.
_MAX_INT_SLIDER_RANGE = 1000


def parse_float_list(name: str, text: str) -> list[float]:
    """Parse ``"0.1, 0.3 0.5"`` into floats; raise InvalidParameterError naming ``name``."""
    items = [item for item in text.replace(",", " ").split() if item]
    try:
        return [float(item) for item in items]
    except ValueError:
        raise InvalidParameterError(
            name, f"{name} must be numbers separated by commas (got {name}={text!r})", text
        ) from None


class ParamField(widgets.VBox):
    """The control for one :class:`Param`, with its unit, help text and an error label.

    A change of the control is handed to ``submit(name, value)``, which either calls
    :meth:`accept` or raises :class:`InvalidParameterError`; the message then shows in the
    field's ``prw-field-error`` label and ``value`` keeps the last valid value.

    Parameters
    ----------
    param
        The declaration the field is built from.
    value
        Current valid value.
    submit
        Validator and sink of new values; by default ``param.validate``.
    none_label
        Label of the checkbox that sets the value to None (for ``allow_none``).
    status
        Status line for unexpected errors.
    """

    value = traitlets.Any(help="Last valid value.")
    error = traitlets.Unicode("", help="Message of the last rejected value, empty when valid.")

    def __init__(
        self,
        param: Param,
        value: Any,
        submit: Callable[[str, Any], None] | None = None,
        none_label: str = "random per trial",
        status: StatusLine | None = None,
    ) -> None:
        super().__init__()
        self.param = param
        self.status = status
        self._submit = submit
        self._quiet = False
        self.add_class("prw-field")
        self.add_class(f"prw-field-{param.name}")
        self.value = value
        self.control = self._make_control(param, value)
        self.control.add_class(f"prw-input-{param.name}")
        self.control.observe(self._on_control, "value")
        parts: list[widgets.Widget] = [self.control]
        if param.unit:
            parts.append(widgets.Label(param.unit))
        self.none_toggle: widgets.Checkbox | None = None
        if param.allow_none:
            self.none_toggle = widgets.Checkbox(value=value is None, description=none_label,
                                                indent=False, layout=widgets.Layout(width="auto"))
            self.none_toggle.add_class("prw-none-toggle")
            self.none_toggle.observe(self._on_none, "value")
            self.control.disabled = value is None
            parts.append(self.none_toggle)
        self.help = widgets.HTML(f'<small class="prw-field-help">{html.escape(param.help)}</small>')
        self.error_label = widgets.HTML("", layout=widgets.Layout(display="none"))
        self.error_label.add_class("prw-field-error")
        self.children = [widgets.HBox(parts), self.help, self.error_label]

    def accept(self, value: Any) -> None:
        """Store ``value`` as valid, clear the error and show the value in the control."""
        self.value = value
        self.error = ""
        self.show(value)

    def show(self, value: Any) -> None:
        """Put ``value`` into the control without submitting it."""
        self._quiet = True
        try:
            if self.none_toggle is not None:
                self.none_toggle.value = value is None
                self.control.disabled = value is None
            if value is not None:
                self.control.value = self._to_control(value)
        finally:
            self._quiet = False

    def submit(self, candidate: Any) -> bool:
        """Validate and store ``candidate``; return whether it was accepted."""
        try:
            value = self.param.validate(candidate)
            if self._submit is None:
                self.accept(value)
            else:
                self._submit(self.param.name, value)
        except InvalidParameterError as error:
            self.error = str(error)
            return False
        return True

    @traitlets.observe("error")
    def _on_error(self, change: Any) -> None:
        self.error_label.value = html.escape(self.error)
        self.error_label.layout.display = None if self.error else "none"

    @guarded("Form")
    def _on_control(self, change: Any) -> None:
        if self._quiet:
            return
        try:
            candidate = self._from_control(change["new"])
        except InvalidParameterError as error:
            self.error = str(error)
            return
        self.submit(candidate)

    @guarded("Form")
    def _on_none(self, change: Any) -> None:
        if self._quiet:
            return
        self.control.disabled = bool(change["new"])
        if change["new"]:
            self.submit(None)
        else:
            self.submit(self._from_control(self.control.value))

    def _make_control(self, param: Param, value: Any) -> widgets.Widget:
        layout = widgets.Layout(width="320px")
        style = {"description_width": "130px"}
        common = {"description": param.name, "layout": layout, "style": style}
        shown = value if value is not None else self._placeholder(param)
        bounded = param.minimum is not None and param.maximum is not None
        if param.kind == "bool":
            return widgets.Checkbox(value=bool(shown), indent=False, description=param.name)
        if param.kind == "choice":
            options = [(str(choice), choice) for choice in param.choices]
            return widgets.Dropdown(options=options, value=shown, **common)
        if param.kind == "float_list":
            return widgets.Text(value=self._to_control(shown), continuous_update=False, **common)
        if param.kind == "int":
            if bounded and param.maximum - param.minimum <= _MAX_INT_SLIDER_RANGE:
                return widgets.IntSlider(value=int(shown), min=int(param.minimum),
                                         max=int(param.maximum), continuous_update=False, **common)
            return widgets.IntText(value=int(shown), continuous_update=False, **common)
        if bounded:
            step = (param.maximum - param.minimum) / 100.0
            return widgets.FloatSlider(value=float(shown), min=param.minimum, max=param.maximum,
                                       step=step, readout_format=".3g", continuous_update=False,
                                       **common)
        return widgets.FloatText(value=float(shown), continuous_update=False, **common)

    @staticmethod
    def _placeholder(param: Param) -> Any:
        # The control needs some value while "None" is ticked; a valid one, so unticking works.
        if param.kind == "choice":
            return param.choices[0]
        if param.kind == "bool":
            return False
        low = param.minimum if param.minimum is not None else 0.0
        high = param.maximum if param.maximum is not None else low + 1.0
        middle = (low + high) / 2.0
        return int(math.floor(middle)) if param.kind == "int" else middle

    def _to_control(self, value: Any) -> Any:
        if self.param.kind == "float_list":
            return ", ".join(f"{v:g}" for v in value)
        return value

    def _from_control(self, shown: Any) -> Any:
        if self.param.kind == "float_list":
            return parse_float_list(self.param.name, shown)
        return shown
