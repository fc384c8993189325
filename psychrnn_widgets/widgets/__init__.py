"""Interactive widgets around the engine (ipywidgets 8 and bqplot)."""

import logging

# A library adds no handlers of its own, except this one: without it, Python's last-resort
# handler writes errors caught in widget callbacks to stderr, which Voilà forwards to the page.
logging.getLogger(__name__).addHandler(logging.NullHandler())
