"""Who may call the service and how much: its settings, API keys and per-key rate limits.

This module owns the knobs (:class:`Settings`, read from ``SERVICE_*`` variables), the key
check (:class:`KeyRing`, constant time) and the token buckets (:class:`RateLimiter`). It knows
nothing of HTTP or of runs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

import attrs
import trio

__all__ = ["KeyRing", "RateLimiter", "Settings"]

T = TypeVar("T")


@attrs.frozen
class Settings:
    """Service knobs; :meth:`from_env` reads them from ``SERVICE_*`` environment variables.

    ``rate`` is the sustained requests per second allowed per API key and ``burst`` how many
    may arrive at once (a token bucket); ``timeout`` bounds each ``/analyze`` run (seconds).
    Runs started with ``POST /runs`` wait for a person, so they have their own bound,
    ``run_timeout``; at most ``max_runs`` of them are live (running or waiting) at once, and
    a finished one is kept for ``keep_finished_for`` seconds, the last ``keep_finished`` at
    most, then forgotten (404).
    """

    keys: tuple[str, ...]
    rate: float = 1.0
    burst: int = 10
    timeout: float = 60.0
    max_input_chars: int = 20_000
    max_body_bytes: int = 64 * 1024
    body_timeout: float = 10.0
    run_timeout: float = 3600.0
    max_runs: int = 100
    keep_finished: int = 100
    keep_finished_for: float = 600.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings; a malformed value raises ``ValueError`` naming its variable."""
        keys = tuple(k.strip() for k in environ.get("SERVICE_API_KEYS", "").split(",") if k.strip())

        def number(name: str, default: str, kind: Callable[[str], T]) -> T:
            text = environ.get(name, default)
            try:
                return kind(text)
            except ValueError:
                raise ValueError(f"{name} must be a number, not {text!r}") from None

        return cls(
            keys=keys,
            rate=number("SERVICE_RATE_PER_SECOND", "1.0", float),
            burst=number("SERVICE_RATE_BURST", "10", int),
            timeout=number("SERVICE_TIMEOUT", "60", float),
            body_timeout=number("SERVICE_BODY_TIMEOUT", "10", float),
            run_timeout=number("SERVICE_RUN_TIMEOUT", "3600", float),
            max_runs=number("SERVICE_MAX_RUNS", "100", int),
            keep_finished=number("SERVICE_KEEP_RUNS", "100", int),
            keep_finished_for=number("SERVICE_KEEP_RUNS_SECONDS", "600", float),
        )


class KeyRing:
    """API keys, checked in constant time: the presented key's SHA-256 is compared with every
    known key's (always all of them), so neither timing nor length reveals a key."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = [hashlib.sha256(k.encode()).digest() for k in keys]
        if not self._digests:
            raise ValueError("no API keys configured (set SERVICE_API_KEYS=key1,key2)")

    def identify(self, presented: str) -> str | None:
        """A stable, non-secret id for ``presented`` if it is a known key, else ``None``."""
        digest = hashlib.sha256(presented.encode()).digest()
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(digest, known)
        return "key_" + digest.hex()[:8] if found else None


class RateLimiter:
    """A token bucket per key: ``burst`` tokens, refilled at ``rate`` per second.

    ``clock`` returns seconds (``trio.current_time`` by default).
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] | None = None) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock or trio.current_time
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)

    def acquire(self, key: str) -> float:
        """Take a token for ``key``: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        tokens, updated = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - updated) * self._rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self._rate
