"""Cognitive tasks as validated, vectorised batch generators (NumPy only, no TensorFlow).

A :class:`Task` declares its parameters (:class:`Param`), validates them on construction and on
every change, and generates whole batches at once as a :class:`TrialBatch`. Tasks register by
name in :data:`TASKS`; :func:`list_tasks` gives the app their titles and descriptions.
"""

from psychrnn_widgets.tasks.base import BASE_PARAMS, Task, as_generator
from psychrnn_widgets.tasks.batch import Psychometric, TrialBatch
from psychrnn_widgets.tasks.builder import TrialBuilder, ms_to_step
from psychrnn_widgets.tasks.metrics import check_outputs, masked_choice, period_mean
from psychrnn_widgets.tasks.neurogym_adapter import NeuroGymTask, from_neurogym
from psychrnn_widgets.tasks.noise import white_noise_std
from psychrnn_widgets.tasks.params import Param
from psychrnn_widgets.tasks.registry import TASKS, get_task, list_tasks, register_task

# Tasks register on import, and list_tasks() shows them in this order: PsychRNN's three first,
# the default task at the top.
from psychrnn_widgets.tasks.perceptual import PerceptualDiscrimination, psychrnn_noise_std  # isort: skip
from psychrnn_widgets.tasks.delayed import DelayedDiscrimination  # isort: skip
from psychrnn_widgets.tasks.category import MatchToCategory, ring_input  # isort: skip
from psychrnn_widgets.tasks.go_no_go import GoNoGo  # isort: skip
from psychrnn_widgets.tasks.context import ContextDependentIntegration  # isort: skip
from psychrnn_widgets.tasks.match_to_sample import DelayedMatchToSample  # isort: skip
from psychrnn_widgets.tasks.ready_set_go import ReadySetGo  # isort: skip
from psychrnn_widgets.tasks.flip_flop import FlipFlop  # isort: skip

__all__ = [
    "BASE_PARAMS",
    "TASKS",
    "ContextDependentIntegration",
    "DelayedDiscrimination",
    "DelayedMatchToSample",
    "FlipFlop",
    "GoNoGo",
    "MatchToCategory",
    "NeuroGymTask",
    "Param",
    "PerceptualDiscrimination",
    "Psychometric",
    "ReadySetGo",
    "Task",
    "TrialBatch",
    "TrialBuilder",
    "as_generator",
    "check_outputs",
    "from_neurogym",
    "get_task",
    "list_tasks",
    "masked_choice",
    "ms_to_step",
    "period_mean",
    "psychrnn_noise_std",
    "register_task",
    "ring_input",
    "white_noise_std",
]
