"""The API key is redacted from the whole exception chain when the server echoes it (issue 14,
item 6), tested against the fake Messages API server."""

from __future__ import annotations

import traceback

import pytest

from openharness_actors import AnthropicHarness, HarnessError, RetryPolicy, create_workflow
from openharness_actors.harness._redact import redact_chain
from openharness_actors.testing.fake_anthropic import http_error, open_fake_anthropic

KEY = "sk-ant-echoed-Lq3w9ZpX-do-not-leak"


def chain(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


@pytest.mark.parametrize("status", [401, 500])
async def test_echoed_key_is_redacted_in_the_cause_chain(
    status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server error echoing the key leaves it in no str, repr, body or formatted traceback
    of the HarnessError or of any exception chained to it."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    async with open_fake_anthropic() as server:
        server.script(*[http_error(status, message=f"invalid x-api-key: {KEY}")] * 2)
        harness = AnthropicHarness(
            api_key=KEY,
            base_url=server.base_url,
            max_retries=1,
            retry=RetryPolicy(initial_delay=0.01, jitter=0),
        )
        wf = create_workflow(dict)
        agent = wf.agent(prompt="p", activate_on=["workflow:start"], updates="k")
        try:
            with pytest.raises(HarnessError) as caught:
                await wf.run_reactive(agents={"a": agent}, state={"k": None}, harness=harness)
        finally:
            await harness.aclose()
        assert server.requests[0].api_key == KEY  # the key was sent, and echoed
    errors = chain(caught.value)
    assert len(errors) >= 2 and errors[1].__module__.startswith("anthropic")
    assert "[redacted]" in str(errors[1])
    for error in errors:
        assert KEY not in str(error)
        assert KEY not in repr(error)
        assert KEY not in repr(getattr(error, "body", None))
        assert KEY not in str(getattr(error, "message", ""))
    assert KEY not in "".join(traceback.format_exception(caught.value))


def test_redact_chain_covers_context_groups_and_notes() -> None:
    """redact_chain rewrites args, message, body and notes through __cause__, __context__ and
    exception groups, and stops at cycles."""
    inner = ValueError(f"key={KEY}")
    inner.add_note(f"note {KEY}")
    grouped = ExceptionGroup("group", [inner])
    outer = RuntimeError("outer", {"detail": [KEY]})
    outer.body = {"error": {"message": KEY}}  # type: ignore[attr-defined]
    outer.__context__ = grouped
    grouped.__cause__ = outer  # a cycle
    redact_chain(outer, KEY)
    text = "".join(traceback.format_exception(outer))
    assert KEY not in text
    assert KEY not in repr(outer.body)  # type: ignore[attr-defined]
    assert inner.__notes__ == ["note [redacted]"]
    assert outer.args == ("outer", {"detail": ["[redacted]"]})
