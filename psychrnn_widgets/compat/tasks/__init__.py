"""PsychRNN's ``psychrnn.tasks`` package: the ``Task`` base and the three PsychRNN tasks."""
