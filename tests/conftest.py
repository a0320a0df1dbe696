"""Shared test configuration.

Every test is bounded by pytest-timeout (``timeout`` in pyproject.toml), so a hang fails
instead of freezing CI; time-dependent tests use trio's ``MockClock`` with autojump.
"""

pytest_plugins = ["pytester"]
