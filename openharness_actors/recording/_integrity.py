"""Integrity checks for stored recordings: altered content is refused, not replayed.

Both file stores keep digests (BLAKE2b, 8 bytes, hex) beside the data they write and check
them when a recording is read, raising :class:`StoreError` on a mismatch:

* JSONL (format version 2): every line carries its own digest, ``{"signal":{...},"h":"…"}``,
  over the line's bytes before ``,"h":`` keyed with the header's digest and the line's number
  — so a changed, dropped, duplicated, reordered or transplanted line is found, and a
  re-recorded fixture still diffs line by line. A file cut at a line boundary has no ``end``
  line: it reads as incomplete (status ``"recording"``).
* SQLite (format version 2): each recording has a running digest, started from its info as
  created and extended by its signals' stored JSON in order, and, once finalized, a seal over
  its final info (status, duration, end time, count) and its checkpoints.

This module owns the digest arithmetic and the JSONL line layout; the stores own their I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

__all__ = [
    "LEGACY",
    "chain",
    "chain_start",
    "final_digest",
    "line_digest",
    "seal_line",
    "split_sealed",
]

LEGACY = "legacy"
"""The SQLite digest of a recording written before digests existed (not checked)."""

_DIGEST_BYTES = 8
_SEAL = re.compile(rb',"h":"([0-9a-f]{16})"\}\Z')
_SEAL_LENGTH = len(',"h":"') + 2 * _DIGEST_BYTES + len('"}')


def _digest(*parts: bytes) -> str:
    hasher = hashlib.blake2b(digest_size=_DIGEST_BYTES)
    for part in parts:
        hasher.update(part)
    return hasher.hexdigest()


def line_digest(key: str, number: int, content: bytes) -> str:
    """The digest of JSONL line ``number`` (1-based) whose bytes before the seal are
    ``content``; ``key`` is the header line's digest (``""`` for the header itself)."""
    return _digest(key.encode("ascii"), b":", str(number).encode("ascii"), b":", content)


def seal_line(key: str, number: int, body: str) -> tuple[str, str]:
    """Line ``number`` for the one-key JSON object text ``body`` (``{"signal":{...}}``),
    sealed with its digest; returns ``(line, digest)``."""
    content = body[:-1].encode("utf-8")
    digest = line_digest(key, number, content)
    return f'{body[:-1]},"h":"{digest}"}}', digest


def split_sealed(key: str, number: int, raw: bytes) -> tuple[bytes, str] | str:
    """Check a sealed line: returns ``(the line without its seal, as JSON, digest)`` or a
    description of what is wrong."""
    found = _SEAL.search(raw)
    if found is None:
        return 'has no integrity digest (\',"h":"…"\' at its end)'
    content = raw[:-_SEAL_LENGTH]
    digest = found.group(1).decode("ascii")
    if line_digest(key, number, content) != digest:
        return "does not match its integrity digest: the line was altered or moved"
    return content + b"}", digest


def chain_start(info_fields: str) -> str:
    """The SQLite running digest of a recording without signals; ``info_fields`` is the JSON
    text of the info it was created with (``RecordingInfo.to_dict`` minus what finalize
    sets)."""
    return _digest(b"openharness-actors/recording:", info_fields.encode("utf-8"))


def chain(digest: str, data: Iterable[str]) -> str:
    """The running digest ``digest`` extended by the stored JSON of further signals."""
    for text in data:
        digest = _digest(digest.encode("ascii"), text.encode("utf-8"))
    return digest


def final_digest(
    digest: str,
    status: str,
    duration_ms: float | None,
    ended_at: float | None,
    count: int,
    checkpoints: Iterable[tuple[int, str]],
) -> str:
    """The digest sealing a finalized SQLite recording: its final info and its checkpoints
    (``(seq, stored state JSON)`` in order)."""
    fields = f"{status}\x00{duration_ms!r}\x00{ended_at!r}\x00{count}"
    parts = [digest.encode("ascii"), fields.encode("utf-8")]
    for seq, state in checkpoints:
        parts.append(f"\x00{seq}\x00{state}".encode())
    return _digest(*parts)
