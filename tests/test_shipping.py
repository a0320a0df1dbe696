"""What travels to Ray workers: closures and lambdas do, credentials do not."""

from __future__ import annotations

import os
import threading

import attrs
import pytest
import structlog

from openharness_actors import ScriptedHarness, WorkflowDefinitionError, create_workflow

pytest.importorskip("cloudpickle")

from openharness_actors._define._options import RunSettings
from openharness_actors.batch._case import CaseJob, default_state, run_case
from openharness_actors.batch.ray._shipping import is_key_like, ship, unship


@attrs.frozen
class Case:
    id: int
    answer: str | None = None


wf = create_workflow(Case)


class Keyed:
    def __init__(self, api_key: str | None, model: str) -> None:
        self._api_key = api_key
        self.model = model


@attrs.frozen
class SlottedKeyed:
    secret: str
    max_tokens: int = 10


async def test_lambdas_and_closures_travel() -> None:
    """A job with a lambda guard, a closure reply and a local end_when runs the same after
    a round trip."""
    suffix = "!"
    solver = wf.agent(
        prompt=lambda ctx: f"case {ctx.state.id}",
        activate_on=["workflow:start"],
        updates="answer",
        when=lambda ctx: ctx.state.id >= 0,
    )
    job = CaseJob(
        wf,
        default_state(wf),
        RunSettings(
            agents={"solver": solver},
            harness=ScriptedHarness(default=lambda r: r.prompt + suffix),
            end_when=lambda s: s.answer is not None,
        ),
    )
    copy: CaseJob = unship(ship(job))
    result = await run_case(copy, {"id": 3}, "3", 0, probe=True)
    assert result.ok and result.state == {"id": 3, "answer": "case 3!"}


def test_key_like_attributes_are_shipped_as_none() -> None:
    """Credential-looking attributes (plain or slotted) arrive as None; the rest intact; the
    log names the attribute, never the value."""
    with structlog.testing.capture_logs() as logs:
        plain, slotted = unship(ship([Keyed("sk-plain-123456789", "m1"), SlottedKeyed("s3cr3t!")]))
    assert (plain._api_key, plain.model) == (None, "m1")
    assert (slotted.secret, slotted.max_tokens) == (None, 10)
    assert {tuple(e["attributes"]) for e in logs} == {("_api_key",), ("secret",)}
    assert "sk-plain" not in repr(logs) and "s3cr3t" not in repr(logs)
    original = Keyed("sk-plain-123456789", "m1")
    ship(original)
    assert original._api_key == "sk-plain-123456789"  # the driver's object is untouched


def test_environment_key_in_a_closure_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A closure capturing the value of ANTHROPIC_API_KEY is refused, naming the variable."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env-value-42424242")
    key = os.environ["ANTHROPIC_API_KEY"]
    with pytest.raises(WorkflowDefinitionError, match="ANTHROPIC_API_KEY") as caught:
        ship({"harness": ScriptedHarness(default=lambda r: key[:0] + "ok")})
    assert "sk-ant-env" not in str(caught.value)


def test_unpicklable_batch_is_a_definition_error() -> None:
    """Something that cannot be pickled fails before any worker starts, with the cause."""
    with pytest.raises(WorkflowDefinitionError, match="cannot send"):
        ship({"lock": threading.Lock()})


@pytest.mark.parametrize(
    ("name", "key_like"),
    [
        ("api_key", True),
        ("_api_key", True),
        ("apiKey", True),
        ("openai_api_key", True),
        ("password", True),
        ("auth_token", True),
        ("max_tokens", False),
        ("tokenizer", False),
        ("model", False),
    ],
)
def test_key_like_names(name: str, key_like: bool) -> None:
    """Which attribute names count as credentials."""
    assert is_key_like(name) is key_like
