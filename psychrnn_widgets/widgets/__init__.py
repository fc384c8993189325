"""Interactive widgets around the engine (ipywidgets 8 and bqplot)."""
