"""Ray stays optional: the package never imports it, and without it ray= says what to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from openharness_actors import RayOptions


def test_package_works_without_ray() -> None:
    """With ray unimportable, local batches run and ray= raises ModuleNotFoundError naming
    the extra; importing the package never imports ray or cloudpickle."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["ray"] = None  # as if not installed
        import trio
        from openharness_actors import ScriptedHarness, create_workflow, run_batch
        assert "ray" not in sys.modules or sys.modules["ray"] is None
        assert "cloudpickle" not in sys.modules

        wf = create_workflow(dict)
        agents = {"a": wf.agent(prompt="hi", activate_on=["workflow:start"], updates="out")}
        options = dict(agents=agents, harness=ScriptedHarness(default="ok"))
        local = trio.run(lambda: run_batch(wf, [{"out": None}] * 3, **options))
        assert local.metrics.succeeded == 3
        try:
            trio.run(lambda: run_batch(wf, [{"out": None}], ray=True, **options))
        except ModuleNotFoundError as exc:
            assert "openharness-actors[ray]" in str(exc), exc
            print("refused")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused"


def test_ray_argument_forms() -> None:
    """ray= takes True (local cluster), an address, or RayOptions; anything else is refused."""
    assert RayOptions.from_argument(True) == RayOptions()
    assert RayOptions.from_argument("ray://head:10001").address == "ray://head:10001"
    options = RayOptions(workers=3)
    assert RayOptions.from_argument(options) is options
    with pytest.raises(ValueError, match="ray="):
        RayOptions.from_argument("")
    with pytest.raises(ValueError, match="chunk_size"):
        RayOptions(chunk_size=0)
