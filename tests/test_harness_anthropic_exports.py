"""AnthropicHarness is public but imported lazily: the package works without importing the SDK."""

from __future__ import annotations

import subprocess
import sys

import openharness_actors
import openharness_actors.harness


def test_lazy_names_are_listed_and_resolve() -> None:
    """The lazy names are in __all__ and dir(), and resolve to the harness class."""
    for module in (openharness_actors, openharness_actors.harness):
        assert {"AnthropicHarness", "ClaudeHarness"} <= set(module.__all__)
        assert {"AnthropicHarness", "ClaudeHarness"} <= set(dir(module))
        assert module.AnthropicHarness is module.ClaudeHarness
    assert openharness_actors.AnthropicHarness is openharness_actors.harness.AnthropicHarness


def test_importing_the_package_does_not_import_the_sdk() -> None:
    """`import openharness_actors` leaves the anthropic SDK unimported until it is used."""
    code = "import sys, openharness_actors; print('anthropic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_no_helper_names_leak_into_the_package() -> None:
    """The lazy-import machinery adds no public names besides the two harness names."""
    for module in (openharness_actors, openharness_actors.harness):
        public = {name for name in dir(module) if not name.startswith("_")}
        assert "TYPE_CHECKING" not in public
        assert "Any" not in public
