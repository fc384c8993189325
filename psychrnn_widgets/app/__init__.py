"""The psychrnn-widgets command: serves the dashboard with Voilà."""
