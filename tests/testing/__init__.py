"""Tests of the public testing helpers (``openharness_actors.testing``)."""
