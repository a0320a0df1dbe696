"""Tests of recording, replay and the signal stores."""
