"""Interactive widgets around the engine (ipywidgets 8 and bqplot).

``Dashboard()`` composes everything; the parts work on their own too. State lives in traitlets,
so every widget can be driven and checked without a browser. Training events reach the charts
only through one :class:`ThrottledUpdater` thread; widget callbacks catch their own errors and
show a short message in the status line.

CSS classes for selecting widgets in a page:

=========================== ==========================================================
Class                       Widget
=========================== ==========================================================
``prw-dashboard``           the whole Dashboard
``prw-training-controls``   buttons, progress, status, save and load
``prw-train-button``        Train (also resumes a paused run); likewise
                            ``prw-pause-button``, ``prw-step-button``,
                            ``prw-stop-button``, ``prw-reset-button``
``prw-max-updates``         number of updates a Train press runs
``prw-progress``            progress bar
``prw-throughput``          "trials, trials/s, time left" label
``prw-status``              status line (inner span ``prw-status-info|busy|error``)
``prw-save-path``           file path for Save and Load (notebook use)
``prw-save-button``         Save; ``prw-load-button`` Load
``prw-upload``              file upload of a ``.npz`` network
``prw-download``            download link box (link ``prw-download-link``)
``prw-settings``            tabs Task, Network, Connectivity, Curriculum
``prw-task-form``           task form; ``prw-task-select`` the task menu
``prw-task-description``    task title and description
``prw-field``               one form field, also ``prw-field-<name>``
``prw-input-<name>``        the control of field ``<name>``
``prw-none-toggle``         "random per trial" / "off" checkbox of a field
``prw-field-error``         message of a rejected value (hidden when empty)
``prw-trial-preview``       preview trials of the task form
``prw-network-panel``       network settings
``prw-mask-editor``         connectivity editor; grid figure ``prw-mask-figure``
                            (cells ``rect.heatmapcell``), E/I strip ``prw-ei-strip``
``prw-mask-matrix``         W_rec / W_in / W_out choice; also ``prw-mask-mode``,
                            ``prw-mask-layer``, ``prw-mask-paint``
``prw-mask-preset``         preset menu; ``prw-mask-density``, ``prw-mask-apply``
``prw-curriculum-editor``   curriculum; ``prw-curriculum-enabled``,
                            ``prw-curriculum-add``, ``prw-curriculum-current``
``prw-stage``               one stage row (``prw-stage-current`` while trained);
                            ``prw-stage-overrides``, ``prw-stage-threshold``,
                            ``prw-stage-up``, ``prw-stage-down``, ``prw-stage-remove``
``prw-loss-chart``          loss chart (figure ``prw-loss-chart-figure``)
``prw-accuracy-chart``      accuracy chart (figure ``prw-accuracy-chart-figure``)
``prw-trace-chart``         held-out trial traces (figures ``prw-trace-chart-figure``)
``prw-weight-heatmap``      live W_rec heatmap
``prw-psychometric``        psychometric curve (hidden for tasks without one)
=========================== ==========================================================
"""

import importlib
import logging
from typing import Any

# A library adds no handlers of its own, except this one: without it, Python's last-resort
# handler writes the errors that widget callbacks and the trainer catch and log to stderr, which
# Voilà forwards to the page. It sits on the package logger so that the engine's logs (a
# failing training callback, for example) are covered too; applications still see every record
# through their own handlers on the root logger.
logging.getLogger("psychrnn_widgets").addHandler(logging.NullHandler())

# Names load on first use, so importing the package does not import TensorFlow.
_EXPORTS = {
    "Dashboard": "dashboard",
    "TaskForm": "forms",
    "ParamField": "fields",
    "NetworkPanel": "network_panel",
    "MaskEditor": "mask_editor",
    "CurriculumEditor": "curriculum_editor",
    "TrainingControls": "controls",
    "LossChart": "charts",
    "AccuracyChart": "charts",
    "WeightHeatmap": "charts",
    "PsychometricChart": "charts",
    "TraceChart": "traces",
    "StatusLine": "_guard",
    "guarded": "_guard",
    "ThrottledUpdater": "updater",
    "EventBuffer": "updater",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'psychrnn_widgets.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
