"""Cognitive tasks as validated, vectorised batch generators (NumPy only)."""
