"""Training engine: constrained RNNs in TensorFlow 2, trainer, curriculum, files, simulator.

Names load on first use (PEP 562), so ``import psychrnn_widgets.engine`` stays cheap until a
TensorFlow-backed name is touched.
"""

from __future__ import annotations

import importlib
from typing import Any

from psychrnn_widgets.engine._runtime import enable_compilation_cache, quiet_own_retracing_warnings

# TensorFlow reads its XLA flags when it sets up its devices, at the first operation, so the
# compilation cache is switched on here, before any engine code touches TensorFlow.
enable_compilation_cache()
quiet_own_retracing_warnings()

_EXPORTS = {
    "NetworkConfig": "config",
    "RateRNN": "network",
    "build_network": "network",
    "LSTM": "recurrent",
    "GRU": "recurrent",
    "TrainingConfig": "training",
    "Trainer": "trainer",
    "TrainingEvent": "events",
    "TrainingHistory": "events",
    "Curriculum": "curriculum",
    "Stage": "curriculum",
    "Simulator": "simulator",
    "save_network": "io",
    "load_network": "io",
    "sweep": "sweep",
    "SweepBase": "sweep",
    "SweepUpdate": "sweep",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'psychrnn_widgets.engine' has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
