"""Training engine: constrained RNNs in TensorFlow 2, trainer, curriculum, files."""
