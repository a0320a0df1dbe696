"""Command-line tests (``python -m openharness_actors`` as a subprocess)."""
