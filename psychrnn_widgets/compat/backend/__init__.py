"""PsychRNN's ``psychrnn.backend`` package: models, initializers, losses, curriculum, simulators."""
