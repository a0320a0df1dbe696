"""Tests of workflow definition checks (``openharness_actors._define``)."""
