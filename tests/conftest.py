"""Shared test set-up: quiet TensorFlow before it is imported, and make ``benchmarks`` importable."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# TensorFlow reads these once, at import: they silence its C++ banner and keep oneDNN's
# reordered float arithmetic out of results that tests compare to 1e-6.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# Compiled programs go to a cache of the test run, not the user's ~/.cache.
os.environ.setdefault(
    "PSYCHRNN_WIDGETS_XLA_CACHE", str(Path(tempfile.gettempdir()) / "psychrnn_widgets-tests-xla")
)

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
