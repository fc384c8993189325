"""Error handling for widget callbacks and the status line that shows the short messages.

An uncaught exception in a widget callback reaches the browser with its full traceback (Voilà
0.5 forwards it over the websocket even when the page hides tracebacks), so every callback in
this package runs through :func:`guarded`: the user sees one short line, the details go to the
logger.
"""

from __future__ import annotations

import functools
import html
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as widgets
import traitlets

from psychrnn_widgets.errors import PsychRNNWidgetsError

__all__ = ["StatusLine", "guarded", "short_message"]

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

_MAX_MESSAGE = 200


def short_message(error: BaseException) -> str:
    """Return one line for the user: the message of a package error, else the type and text."""
    if isinstance(error, PsychRNNWidgetsError):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return text


class StatusLine(widgets.HTML):
    """One line of status text (CSS class ``prw-status``); ``level`` is info, busy or error."""

    message = traitlets.Unicode("", help="Text shown to the user, without markup.")
    level = traitlets.Enum(("info", "busy", "error"), "info", help="Kind of message.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("prw-status")
        self._lock = threading.Lock()
        self._render()

    def show(self, message: str, level: str = "info") -> None:
        """Set the message and its level in one step (callable from any thread)."""
        with self._lock:
            with self.hold_trait_notifications():
                self.level = level
                self.message = message

    def error(self, message: str) -> None:
        """Show ``message`` as an error."""
        self.show(message, "error")

    @traitlets.observe("message", "level")
    def _render(self, change: Any = None) -> None:
        colors = {"info": "#333", "busy": "#1f5fa8", "error": "#b00020"}
        self.value = (
            f'<span class="prw-status-{self.level}" style="color:{colors[self.level]}">'
            f"{html.escape(self.message)}</span>"
        )


def guarded(action: str) -> Callable[[F], F]:
    """Wrap a widget callback so that no exception leaves it.

    A package error (bad input) is shown as its own message; any other exception is logged
    with its traceback and shown as a short line. The message goes to ``self.status`` (a
    :class:`StatusLine`) when the owner has one.

    Parameters
    ----------
    action
        What the callback does, for the message ("Train", "Load weights").
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return function(self, *args, **kwargs)
            except PsychRNNWidgetsError as error:
                logger.info("%s rejected: %s", action, error)
                _report(self, f"{action}: {short_message(error)}")
            except Exception as error:  # noqa: BLE001 - a callback must never raise to the kernel
                logger.error("%s failed", action, exc_info=True)
                _report(self, f"{action} failed: {short_message(error)}")
            return None

        return wrapper  # type: ignore[return-value]

    return decorate


def _report(owner: Any, message: str) -> None:
    status = getattr(owner, "status", None)
    if isinstance(status, StatusLine):
        try:
            status.error(message)
        except Exception:  # noqa: BLE001 - reporting must not raise either
            logger.error("could not show message %r", message, exc_info=True)
