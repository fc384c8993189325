"""PsychRNN-compatible names mapped onto the engine and tasks."""
