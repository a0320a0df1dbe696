"""Test kit for workflows built with openharness_actors (public API)."""

__all__: list[str] = []
