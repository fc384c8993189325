"""PsychRNN's ``psychrnn.backend.models`` package: ``Basic``, ``BasicScan`` and ``LSTM``."""
