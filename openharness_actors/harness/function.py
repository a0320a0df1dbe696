"""FunctionHarness: a plain Python function in place of a model, for glue steps."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from .._errors import HarnessError
from .protocol import EventSink, HarnessRequest, HarnessResult, TextComplete

__all__ = ["FunctionHarness"]


class FunctionHarness:
    """Calls ``fn(request)`` (sync or async) and uses what it returns as the reply.

    ``fn`` returns the reply text or a full :class:`HarnessResult`. Its exceptions become
    :class:`HarnessError` (cause chained) so they fail the activation like any harness failure.
    For glue that needs no prompt at all, give the agent a ``body`` instead.
    """

    name = "function"

    def __init__(
        self,
        fn: Callable[[HarnessRequest], str | HarnessResult | Awaitable[str | HarnessResult]],
    ) -> None:
        self._fn = fn

    def preflight(self) -> None:
        """Nothing to check."""

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        try:
            produced = self._fn(request)
            reply = await produced if inspect.isawaitable(produced) else produced
        except HarnessError:
            raise
        except Exception as exc:
            raise HarnessError(
                f"function harness failed for agent {request.agent!r}: {exc!r}",
                agent=request.agent,
            ) from exc
        if isinstance(reply, HarnessResult):
            result = reply
        elif isinstance(reply, str):
            result = HarnessResult(output=reply)
        else:
            raise HarnessError(
                f"function harness for agent {request.agent!r} returned {type(reply).__name__}, "
                "expected str or HarnessResult",
                agent=request.agent,
            )
        await emit(TextComplete(result.output))
        return result
