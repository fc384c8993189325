"""Keep log records and warnings of a Voilà kernel off the page.

Voilà forwards everything a kernel writes to stderr to the browser, where a student would see
paths and library internals. The dashboard notebook calls :func:`send_logs_to_file` first, so
records go to a file that the person running the server can read.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

__all__ = ["send_logs_to_file"]

_HANDLER_NAME = "psychrnn-widgets-kernel-file"


def send_logs_to_file(directory: str | os.PathLike[str] | None = None) -> Path:
    """Write log records and Python warnings of this process to a file instead of stderr.

    Parameters
    ----------
    directory : path-like, optional
        Folder for the log file; the system's temporary folder when None.

    Returns
    -------
    Path
        The log file, ``psychrnn-widgets-kernel-<pid>.log``. Calling again returns the same file.
    """
    root = logging.getLogger()
    for handler in root.handlers:
        if handler.get_name() == _HANDLER_NAME:
            return Path(handler.baseFilename)

    folder = Path(directory) if directory is not None else Path(tempfile.gettempdir())
    path = folder / f"psychrnn-widgets-kernel-{os.getpid()}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)

    # TensorFlow attaches a stderr handler of its own to this logger, so it gets the file only.
    tf_logger = logging.getLogger("tensorflow")
    tf_logger.handlers = [handler]
    tf_logger.propagate = False

    logging.captureWarnings(True)
    return path
