"""Train recurrent neural networks on cognitive tasks and watch them learn, live, in Jupyter.

Layers, each importing only the ones after it: ``app`` → ``widgets`` → ``engine`` → ``tasks``.
Importing this package imports nothing heavy: TensorFlow loads with ``psychrnn_widgets.engine``.
"""

__version__ = "0.1.0"
