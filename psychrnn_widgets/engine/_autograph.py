"""AutoGraph for user code only.

The compiled update is traced with AutoGraph off (converting the engine's own code cost about a
second of every first call). A loss, regularizer or transfer function written by a user may still
branch or loop on tensors in plain Python, so those callables are converted on their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import tensorflow as tf


def _convert(function: Callable[..., Any]) -> Callable[..., Any]:
    try:
        return tf.autograph.to_graph(function)
    except Exception:  # noqa: BLE001 - no source (a builtin, a C function), so call it as is
        return function


_converted = functools.lru_cache(maxsize=64)(_convert)


def user_callable(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``function`` converted by AutoGraph, or unchanged when it cannot be converted."""
    if getattr(function, "__module__", "") and function.__module__.startswith(("tensorflow", "keras")):
        return function
    try:
        return _converted(function)
    except TypeError:  # an unhashable callable object cannot be cached
        return _convert(function)
