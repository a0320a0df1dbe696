"""The routing index: which agents and reducers a signal name reaches.

Built once per set of agents and reducers (and shared by every run of that set). Exact
patterns go into a dict; wildcard patterns are resolved once per distinct signal name and the
answer is cached, so routing a signal is a dict lookup, never a scan of all agents.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .._define._pattern import Pattern

__all__ = ["NON_TRIGGERING", "Route", "RoutingTable"]

NON_TRIGGERING = frozenset({"agent:skipped", "workflow:end"})
"""Signals that never activate agents (they still reach reducers and subscribers): a skip
that could trigger another skip would loop forever, and nothing runs after ``workflow:end``."""

_CACHE_LIMIT = 65536


@attrs.frozen(slots=True)
class Route:
    """Indexes of the agents and reducers a signal name reaches."""

    agents: tuple[int, ...]
    reducers: tuple[int, ...]


_NOWHERE = Route((), ())


class RoutingTable:
    """Compiled routes for agents (by index) and reducers (by index)."""

    def __init__(
        self,
        agent_patterns: Sequence[Sequence[Pattern]],
        reducer_patterns: Sequence[Pattern],
    ) -> None:
        self._exact_agents: dict[str, list[int]] = {}
        self._wild_agents: list[tuple[Pattern, int]] = []
        for index, patterns in enumerate(agent_patterns):
            for pattern in patterns:
                if pattern.exact is not None:
                    self._exact_agents.setdefault(pattern.exact, []).append(index)
                else:
                    self._wild_agents.append((pattern, index))
        self._reducers = tuple(reducer_patterns)
        self._cache: dict[str, Route] = {}

    def route(self, name: str) -> Route:
        """Where signal ``name`` goes. Each agent appears once even if several of its
        patterns match; agents in ascending index order."""
        route = self._cache.get(name)
        if route is None:
            route = self._resolve(name)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[name] = route
        return route

    def _resolve(self, name: str) -> Route:
        agents: set[int] = set()
        if name not in NON_TRIGGERING:
            agents.update(self._exact_agents.get(name, ()))
            for pattern, index in self._wild_agents:
                if index not in agents and pattern.matches(name):
                    agents.add(index)
        reducers = tuple(i for i, p in enumerate(self._reducers) if p.matches(name))
        if not agents and not reducers:
            return _NOWHERE
        return Route(tuple(sorted(agents)), reducers)
