"""PsychRNN-compatible API over the engine and the task library.

An existing PsychRNN script runs with only its imports changed: ``from psychrnn.X import Y``
becomes ``from psychrnn_widgets.compat.X import Y``. The module layout, class names, ``params``
and ``train_params`` keys, defaults, return values and weight-file keys are PsychRNN's. Nothing
is re-exported here, as in PsychRNN.

Behaviour taken from PsychRNN's main branch (commit aff98e1) where it differs from 1.0.0:

* ``Dale_out`` is 1 for excitatory and 0 for inhibitory units, so inhibitory units do not reach
  the outputs (1.0.0 used -1). A loaded file keeps the ``Dale_out`` it contains.
* ``train`` runs ``ceil(training_iters / batch_size)`` updates (1.0.0 runs one fewer, and none
  when ``training_iters <= batch_size``).
* A ``training_weights_path`` folder that does not exist is created.
* The transfer function is stored in weight files and restored on load. Here it is written as
  a plain string under ``transfer_function_name``, never pickled. A main-branch file's pickled
  ``transfer_function`` is recognised by name without unpickling.
* ``Task.get_trial_batch()`` draws from one persistent generator, so batch numbers count up.
* ``Curriculum.get_generator_function()`` warns ``DeprecationWarning``; use ``batch_generator()``.

Deliberate differences from PsychRNN:

* No TensorFlow graph mode: importing this package changes no global TensorFlow state, and
  models run eagerly with compiled ``tf.function`` steps. ``build()`` does nothing,
  ``destruct()`` affects only its own model, and two models may share a ``name``.
* Any batch size: ``test`` and ``train`` accept batches of any size (``N_steps`` stays fixed).
  The LSTM's per-trial initial states are used cyclically for batches larger than ``N_batch``.
* A second ``train`` call continues from the current weights (PsychRNN silently restarts from
  the initial weights). Each call starts a new optimiser, as in PsychRNN, and its Adam moments
  are saved as ``<name>/Adam_2``, ``<name>/Adam_3`` and so on.
* Weight files are read without unpickling, and ``save`` writes no pickled object: a
  ``dale_ratio`` of None is left out of the file, which PsychRNN reads as None (1.0.0 also
  prints a warning that the file looks old).
* ``verbosity`` messages go to :mod:`logging` (INFO level) instead of standard output.
* Errors PsychRNN raises as ``UserWarning`` are ``CompatUsageError``, a subclass of both
  ``UserWarning`` and :class:`~psychrnn_widgets.errors.InvalidParameterError`. A bad
  ``dale_ratio`` or array shape raises ``InvalidParameterError`` where PsychRNN uses ``assert``
  or a bare ``raise``. ``autapses=False`` does not modify the caller's ``rec_connectivity``.
* Dale balancing with ``dale_ratio`` 1.0 or 0 leaves the columns unweighted where PsychRNN
  divides by zero; ``dale_ratio=0`` applies no Dale's law, as in PsychRNN.
* The simulators accept a batch of one trial (PsychRNN's squeeze drops its batch axis).
* ``initializer.get(name)`` returns a TensorFlow 2 ``tf.constant_initializer``.
"""
