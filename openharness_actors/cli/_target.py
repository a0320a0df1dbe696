"""Loading the workflow a command runs from ``path.py:NAME``, and its initial state from JSON.

The convention (also in ``openharness-actors run --help`` and the README):

* ``path.py:NAME`` imports ``path.py`` as a module (not as ``__main__``, so its
  ``if __name__ == "__main__":`` block does not run; its directory is put first on
  ``sys.path``, as when running it as a script). ``NAME`` defaults to ``workflow``.
* If ``NAME`` is a :class:`~openharness_actors.Workflow`, the run options are module-level
  names: ``agents`` (required: a mapping of name -> agent) and, optionally, ``harness``,
  ``end_when``, ``reducers``, ``restart``, ``on_end``, ``external`` and ``on_wait`` — the
  ``run_reactive`` options of the same names.
* Otherwise ``NAME`` must be a callable taking no arguments (a factory) that returns a
  mapping with ``workflow`` and ``agents`` and, optionally, the same other options. Use it to
  choose a harness from the environment, or to build things lazily.

State, recording, reporters, timeout and the activation limit come from the command line.
Every problem is a :class:`WorkflowDefinitionError` (exit code 2) naming the file and name.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import inspect
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs

from .._define._workflow import Workflow
from .._errors import WorkflowDefinitionError
from .._json import converter
from ..harness.choose import HarnessChoice, choose_harness

__all__ = [
    "OPTION_NAMES",
    "TARGET_HELP",
    "TARGET_MODULE_PREFIX",
    "Target",
    "initial_state",
    "load_target",
    "with_harness",
]

OPTION_NAMES = (
    "agents",
    "harness",
    "end_when",
    "reducers",
    "restart",
    "on_end",
    "external",
    "on_wait",
)
"""The run options a workflow file may give (``agents`` is required)."""

DEFAULT_ATTRIBUTE = "workflow"

TARGET_HELP = """\
workflow files:
  path.py:NAME imports path.py (not as __main__) and reads NAME (default: workflow).
  If NAME is a Workflow, the module must also define `agents` (name -> agent) and may
  define `harness`, `end_when`, `reducers`, `restart`, `on_end`, `external` and
  `on_wait` (run_reactive options).
  Otherwise NAME is a factory: a no-argument callable returning a mapping with
  `workflow`, `agents` and any of those options.
"""


TARGET_MODULE_PREFIX = "_openharness_cli_"
"""Workflow files are imported as modules named ``<prefix><stem>_<digest>``."""


@attrs.frozen
class Target:
    """A loaded workflow and the run options its file gives (keyword arguments of
    ``run_reactive``). ``spec`` is the ``path.py:NAME`` it was loaded from."""

    spec: str
    workflow: Workflow[Any]
    options: Mapping[str, Any]


def load_target(spec: str) -> Target:
    """Load ``path.py[:NAME]``; see the module docstring. Raises
    :class:`WorkflowDefinitionError` when the file, the name or what it holds is wrong."""
    path_text, _, attribute = spec.rpartition(":") if _has_attribute(spec) else (spec, "", "")
    attribute = attribute or DEFAULT_ATTRIBUTE
    path = Path(path_text)
    if not path.is_file():
        raise WorkflowDefinitionError(f"{spec}: no such file {str(path)!r}")
    module = _import(path, spec)
    if not hasattr(module, attribute):
        names = sorted(
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (
                isinstance(value, Workflow)
                or (inspect.isfunction(value) and value.__module__ == module.__name__)
            )
        )
        hint = f" (it defines: {', '.join(names)})" if names else ""
        raise WorkflowDefinitionError(f"{spec}: {path.name} has no attribute {attribute!r}{hint}")
    value = getattr(module, attribute)
    if isinstance(value, Workflow):
        if not hasattr(module, "agents"):
            raise WorkflowDefinitionError(
                f"{spec}: {attribute!r} is a Workflow, but {path.name} defines no `agents` "
                "mapping (name -> agent); define it, or point at a factory"
            )
        options = {name: getattr(module, name) for name in OPTION_NAMES if hasattr(module, name)}
        return Target(spec, value, _checked_options(spec, options))
    if not callable(value):
        raise WorkflowDefinitionError(
            f"{spec}: {attribute!r} is of type {type(value).__name__}, not a Workflow or a factory "
            "returning the run options"
        )
    try:
        made = value()
    except Exception as exc:
        raise WorkflowDefinitionError(
            f"{spec}: calling factory {attribute!r} raised {exc!r}:\n{_short_traceback(exc)}"
        ) from exc
    if not isinstance(made, Mapping):
        raise WorkflowDefinitionError(
            f"{spec}: factory {attribute!r} returned a value of type {type(made).__name__}, not a mapping "
            f"with 'workflow', 'agents' and optionally {', '.join(OPTION_NAMES[1:])}"
        )
    unknown = sorted(set(made) - {"workflow", *OPTION_NAMES})
    if unknown:
        raise WorkflowDefinitionError(
            f"{spec}: factory {attribute!r} returned unknown option(s) {', '.join(unknown)} "
            f"(allowed: workflow, {', '.join(OPTION_NAMES)})"
        )
    workflow = made.get("workflow")
    if not isinstance(workflow, Workflow):
        raise WorkflowDefinitionError(
            f"{spec}: factory {attribute!r} must return 'workflow': a Workflow, "
            f"not {type(workflow).__name__}"
        )
    if "agents" not in made:
        raise WorkflowDefinitionError(f"{spec}: factory {attribute!r} returned no 'agents'")
    options = {name: made[name] for name in OPTION_NAMES if name in made}
    return Target(spec, workflow, _checked_options(spec, options))


def with_harness(target: Target, choice: HarnessChoice | None) -> Target:
    """``--harness``: ``anthropic`` or ``claude-code`` replaces the file's harness; ``auto``
    does so when a key or a Claude Code login is found (see :func:`choose_harness`), else keeps
    the file's; ``offline`` and ``None`` keep the file's."""
    if choice is None or choice == "offline":
        return target
    harness = choose_harness(choice=choice)
    if harness is None:
        if "harness" in target.options:
            return target
        raise WorkflowDefinitionError(
            f"{target.spec}: --harness auto found no ANTHROPIC_API_KEY and no Claude Code login, "
            "and the file gives no harness"
        )
    return attrs.evolve(target, options={**target.options, "harness": harness})


def _has_attribute(spec: str) -> bool:
    # "C:\flows\x.py" has a drive colon, not an attribute; an attribute follows ".py:".
    head, sep, tail = spec.rpartition(":")
    return bool(sep) and bool(head) and "/" not in tail and "\\" not in tail


def _checked_options(spec: str, options: dict[str, Any]) -> dict[str, Any]:
    agents = options.get("agents")
    if not isinstance(agents, Mapping) or not agents:
        raise WorkflowDefinitionError(
            f"{spec}: `agents` must be a non-empty mapping of name -> agent, "
            f"not {type(agents).__name__}"
        )
    return options


def _import(path: Path, spec: str) -> Any:
    resolved = path.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:8]
    name = f"{TARGET_MODULE_PREFIX}{resolved.stem}_{digest}"
    module_spec = importlib.util.spec_from_file_location(name, resolved)
    if module_spec is None or module_spec.loader is None:
        raise WorkflowDefinitionError(f"{spec}: cannot import {str(path)!r} as a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # attrs and dataclasses resolve annotations through it
    if str(resolved.parent) not in sys.path:
        sys.path.insert(0, str(resolved.parent))
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise WorkflowDefinitionError(
            f"{spec}: importing {path.name} raised {exc!r}:\n{_short_traceback(exc)}"
        ) from exc
    return module


def _short_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` without the loader's frames."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if "importlib" not in frame.filename and not frame.filename.endswith("_target.py")
    ]
    lines = traceback.format_list(frames) + traceback.format_exception_only(exc)
    return "".join(lines).rstrip()


def initial_state(target: Target, data: Any) -> Any:
    """The initial state for ``target`` from JSON ``data``: the mapping itself for dict
    states, else ``data`` structured into the state type with cattrs. Raises
    :class:`WorkflowDefinitionError` listing every bad field."""
    model = target.workflow.state_model
    if model.kind == "mapping":
        if not isinstance(data, Mapping):
            raise WorkflowDefinitionError(
                f"the initial state must be a JSON object, not {type(data).__name__}"
            )
        return data
    problems = _unknown_keys(data, model.fields)
    cause: Exception | None = None
    state: Any = None
    try:
        state = converter.structure(data, model.state_type)
    except Exception as exc:
        cause = exc
        problems += (
            cattrs.transform_error(exc, path="state")
            if isinstance(exc, cattrs.BaseValidationError)
            else [repr(exc)]
        )
    if not problems:
        return state
    raise WorkflowDefinitionError(
        f"the initial state does not fit {model.type_name}: {'; '.join(problems)}",
        problems=problems,
    ) from cause


def _unknown_keys(data: Any, fields: frozenset[str] | None) -> list[str]:
    """A problem per key of ``data`` that names no field (cattrs would drop it silently),
    with the closest field name when one is close."""
    if fields is None or not isinstance(data, Mapping):
        return []
    problems = []
    for key in sorted(str(k) for k in data if k not in fields):
        close = difflib.get_close_matches(key, sorted(fields), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"unknown key {key!r} @ state.{key}{hint}")
    return problems
