"""Log records and warnings of a Voilà kernel go to a file, not to stderr."""

from __future__ import annotations

import logging
import warnings

import pytest

from psychrnn_widgets.app.kernel_logs import send_logs_to_file


@pytest.fixture
def clean_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    tf_logger = logging.getLogger("tensorflow")
    tf_handlers, tf_propagate = list(tf_logger.handlers), tf_logger.propagate
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers, root.level = handlers, level
    tf_logger.handlers, tf_logger.propagate = tf_handlers, tf_propagate
    logging.captureWarnings(False)


def test_records_go_to_file(tmp_path, capfd, clean_root_logger):
    path = send_logs_to_file(tmp_path)
    logging.getLogger("psychrnn_widgets.engine").warning("loss is %s", "nan")
    logging.getLogger("tensorflow").warning("retracing")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("old option", DeprecationWarning, stacklevel=1)
    for handler in logging.getLogger().handlers:
        handler.flush()

    text = path.read_text()
    assert path.parent == tmp_path
    assert "WARNING psychrnn_widgets.engine: loss is nan" in text
    assert "WARNING tensorflow: retracing" in text
    assert "DeprecationWarning: old option" in text
    captured = capfd.readouterr()
    assert "loss is nan" not in captured.err
    assert "retracing" not in captured.err


def test_second_call_returns_same_file(tmp_path, clean_root_logger):
    first = send_logs_to_file(tmp_path)
    second = send_logs_to_file(tmp_path / "elsewhere")
    assert second == first
    named = [h for h in logging.getLogger().handlers if h.get_name() == "psychrnn-widgets-kernel-file"]
    assert len(named) == 1
