"""Token usage of harness calls, summed per activation, agent and run."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["Usage"]


@attrs.frozen(slots=True)
class Usage:
    """Token counts of one or more model calls; ``+`` sums them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """All tokens read and written, cache traffic included."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_input_tokens
            + self.cache_creation_input_tokens
        )

    def to_dict(self) -> dict[str, int]:
        """The counts as a dict (what ``attrs.asdict`` gives, written out: one is built per
        harness call)."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
        }

    @classmethod
    def total(cls, usages: Iterable[Usage]) -> Usage:
        """The sum of ``usages`` (one object made, however many are summed)."""
        inputs = outputs = cache_reads = cache_writes = 0
        for usage in usages:
            inputs += usage.input_tokens
            outputs += usage.output_tokens
            cache_reads += usage.cache_read_input_tokens
            cache_writes += usage.cache_creation_input_tokens
        return cls(inputs, outputs, cache_reads, cache_writes)

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
        )
