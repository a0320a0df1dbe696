"""Choosing a live harness from the environment: an API key, a Claude Code login, or neither.

``choose_harness`` is what the examples and ``openharness-actors run --harness auto`` use:

1. ``ANTHROPIC_API_KEY`` is set: :class:`~openharness_actors.AnthropicHarness` (the key
   stays in the harness: never in signals, logs or recordings).
2. Otherwise, ``claude-agent-sdk`` is installed and its ``claude`` CLI reports a login
   (``claude auth status``; a Claude subscription, say): :class:`~openharness_actors.ClaudeCodeHarness`.
3. Otherwise the ``fallback`` (a scripted harness, typically), or ``None``.

``OPENHARNESS_HARNESS`` overrides the choice: ``anthropic``, ``claude-code``, ``offline`` (always
the fallback: what the test suite sets) or ``auto`` (the default). Neither SDK is imported
unless its harness is chosen. This module only chooses; it never calls a model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Literal, TypeAlias

from .._errors import WorkflowDefinitionError
from .protocol import Harness

__all__ = ["HARNESS_CHOICES", "HarnessChoice", "choose_harness"]

HarnessChoice: TypeAlias = Literal["auto", "anthropic", "claude-code", "offline"]
HARNESS_CHOICES: tuple[HarnessChoice, ...] = ("auto", "anthropic", "claude-code", "offline")
"""The values of ``OPENHARNESS_HARNESS`` (and of ``openharness-actors run --harness``)."""


def choose_harness(
    fallback: Harness | Callable[[], Harness] | None = None,
    *,
    choice: HarnessChoice | None = None,
    environ: Mapping[str, str] | None = None,
) -> Harness | None:
    """The live harness this environment can run, else ``fallback`` (called if callable).

    ``choice`` (default: ``OPENHARNESS_HARNESS``, else ``"auto"``) forces one; see the module
    docstring. Raises :class:`WorkflowDefinitionError` for an unknown choice.
    """
    env = os.environ if environ is None else environ
    picked = choice or env.get("OPENHARNESS_HARNESS") or "auto"
    if picked not in HARNESS_CHOICES:
        raise WorkflowDefinitionError(
            f"unknown harness choice {picked!r} (OPENHARNESS_HARNESS or --harness): "
            f"use one of {', '.join(HARNESS_CHOICES)}"
        )
    if picked == "anthropic" or (picked == "auto" and env.get("ANTHROPIC_API_KEY")):
        from .anthropic import AnthropicHarness

        return AnthropicHarness()
    if picked == "claude-code" or (picked == "auto" and _claude_code_logged_in(env)):
        from .claude_code import ClaudeCodeHarness

        return ClaudeCodeHarness()
    return fallback() if callable(fallback) and not isinstance(fallback, Harness) else fallback


def _claude_code_logged_in(environ: Mapping[str, str]) -> bool:
    from .claude_code._cli import logged_in, sdk_available

    return sdk_available() and logged_in(environ=environ)
