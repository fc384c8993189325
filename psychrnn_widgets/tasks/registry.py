"""Registry of task classes by name, so the app can list them and build one from a form."""

from __future__ import annotations

from typing import Any

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.base import Task
from psychrnn_widgets.tasks.params import unknown_name_error

__all__ = ["TASKS", "get_task", "list_tasks", "register_task"]

TASKS: dict[str, type[Task]] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Add a Task subclass to :data:`TASKS` under ``cls.name``; usable as a class decorator.

    Raises
    ------
    InvalidParameterError
        If ``cls`` is not a Task subclass, has no name, or another class has that name.
    """
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise InvalidParameterError(
            "cls", f"register_task needs a Task subclass (got {cls!r})", cls
        )
    if not cls.name:
        raise InvalidParameterError(
            "name", f"{cls.__name__}.name must be a non-empty string to register it", cls
        )
    existing = TASKS.get(cls.name)
    if existing is not None and existing is not cls:
        raise InvalidParameterError(
            "name",
            f"task name {cls.name!r} is already registered to {existing.__module__}.{existing.__qualname__}",
            cls.name,
        )
    TASKS[cls.name] = cls
    return cls


def get_task(name: str, **values: Any) -> Task:
    """Build the registered task ``name`` with parameter ``values``."""
    if name not in TASKS:
        raise unknown_name_error(name, TASKS, "task")
    return TASKS[name](**values)


def list_tasks() -> list[tuple[str, str, str]]:
    """Return ``(name, title, description)`` for every registered task, in registration order."""
    return [(name, cls.title, cls.description) for name, cls in TASKS.items()]
