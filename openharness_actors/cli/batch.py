"""``openharness-actors batch path.py:NAME --inputs cases.jsonl``: many runs, one per line.

A thin wrapper of :func:`~openharness_actors.run_batch`: each input line is a case's initial
state (JSON), ``--results`` appends one line per finished case and makes a second call resume
(``--retry-failed`` reruns the failures), and the progress printer reports on stderr. SIGINT
or SIGTERM cancel the cases in flight cleanly; what finished is already in the results file.
``--ray [ADDRESS]`` runs the cases on Ray workers (extra ``[ray]``; ``--workers N`` of them):
on the cluster at ADDRESS, or on a local cluster started for the batch with at least one CPU
per worker. The workflow file travels to the workers by value, so they need only the package.
Exit code 0 when every case succeeded, 1 when any failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import trio

from .._json import converter
from ..batch import BatchProgress, BatchResult, ProgressPrinter, RayOptions, run_batch
from ._exit import EXIT_CODES_HELP, ExitCode, UsageError, exit_code_for_signal
from ._format import format_duration, write_json
from ._interrupt import Interruption, cancel_on_signals
from ._options import add_run_options, positive_int, wrap
from ._target import TARGET_HELP, TARGET_MODULE_PREFIX, load_target, with_harness

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``batch`` command."""
    parser = commands.add_parser(
        "batch",
        help="run a workflow over every line of a JSONL file",
        description=wrap(
            "Run a workflow once per input line (the line is the initial state), "
            "CONCURRENCY at a time, each case isolated. Progress goes to stderr; a summary (or "
            "JSON with --json) to stdout. With --results, running again resumes."
        ),
        epilog=TARGET_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_options(parser)
    parser.add_argument(
        "--inputs", required=True, metavar="PATH", help="JSONL: one initial state per line"
    )
    parser.add_argument(
        "--results", metavar="PATH", help="append one JSON line per finished case; resume from it"
    )
    parser.add_argument(
        "--concurrency", type=positive_int, default=8, metavar="N", help="runs at once (8)"
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="on resume, run the failed cases again"
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const=True,
        default=None,
        metavar="ADDRESS",
        help="run the cases on Ray: the cluster at ADDRESS ('auto', 'ray://head:10001'), "
        "or a local one started for the batch",
    )
    parser.add_argument(
        "--workers", type=positive_int, metavar="N", help="Ray worker processes (with --ray)"
    )
    parser.set_defaults(handler=batch_command)


async def batch_command(args: argparse.Namespace) -> int:
    """Run the batch; see the module docstring."""
    inputs = trio.Path(args.inputs)
    if not await inputs.is_file():
        raise UsageError(f"--inputs: no such file {args.inputs!r}")
    if args.workers is not None and args.ray is None:
        raise UsageError("--workers needs --ray")
    target = with_harness(load_target(args.target), args.harness)
    options: dict[str, Any] = dict(target.options)
    if args.ray is not None:
        options["ray"] = _ray_options(args.ray, args.workers)
    if args.timeout is not None:
        options["timeout"] = args.timeout
    options["max_activations"] = args.max_activations
    progress: Callable[[BatchProgress], None] | bool = False
    if not args.quiet:
        progress = _with_total(ProgressPrinter(sys.stderr), await _count_lines(inputs))
    batch: BatchResult | None = None
    interruption: Interruption | None = None
    with trio.CancelScope() as scope:
        async with cancel_on_signals(scope.cancel) as interruption:
            batch = await run_batch(
                target.workflow,
                str(inputs),
                concurrency=args.concurrency,
                results_path=args.results,
                retry_failed=args.retry_failed,
                progress=progress,
                **options,
            )
    if batch is None:  # cancelled by a signal
        resume = " (run the same command again to resume)" if args.results else ""
        print(
            f"interrupted: the cases in flight were cancelled; finished cases are in "
            f"{args.results or 'no results file'}{resume}",
            file=sys.stderr,
        )
        signum = interruption.signum if interruption is not None else None
        return exit_code_for_signal(signum or signal.SIGINT)
    code = ExitCode.RUN_FAILED if batch.failures else ExitCode.OK
    if args.json:
        document: dict[str, Any] = {
            "metrics": converter.unstructure(batch.metrics),
            "failures": [case.to_dict() for case in batch.failures],
            "results_path": args.results,
            "exit_code": int(code),
        }
        if args.results is None:
            document["results"] = [case.to_dict() for case in batch.results]
        write_json(document, sys.stdout)
        return code
    metrics = batch.metrics
    latency = metrics.latency_ms
    resumed = metrics.cases - metrics.ran
    suspended = f"{metrics.suspended} suspended · " if metrics.suspended else ""
    print(
        f"{metrics.cases} cases · {metrics.succeeded} succeeded · {metrics.failed} failed · "
        f"{suspended}{resumed} resumed · p50 {format_duration(latency['p50'])} · "
        f"p90 {format_duration(latency['p90'])} · wall {format_duration(metrics.wall_ms)}"
    )
    for case in batch.failures[:20]:
        print(f"  failed {case.case_id}: {case.error_type}: {case.error}")
    if len(batch.failures) > 20:
        print(f"  … and {len(batch.failures) - 20} more")
    if args.results:
        print(f"results: {args.results}")
    return code


def _ray_options(address: str | bool, workers: int | None) -> RayOptions:
    """``--ray``/``--workers`` as :class:`RayOptions`; the workflow file's module (loaded
    under a name the workers cannot import) is shipped by value."""
    try:
        from ..batch.ray._shipping import ship_modules_by_value
    except ModuleNotFoundError as exc:
        raise UsageError(f"--ray needs {exc.name}: pip install 'openharness-actors[ray]'") from exc
    ship_modules_by_value(name for name in sys.modules if name.startswith(TARGET_MODULE_PREFIX))
    init_options: dict[str, Any] = {}
    if address is True and workers is not None:  # a local cluster: a CPU per worker at least
        init_options["num_cpus"] = max(workers, os.cpu_count() or 1)
    return RayOptions(
        address=None if address is True else str(address),
        workers=workers,
        init_options=init_options,
    )


def _with_total(
    printer: Callable[[BatchProgress], None], total: int
) -> Callable[[BatchProgress], None]:
    """The printer, told the number of cases (``run_batch`` streams a file without counting)."""

    def report(progress: BatchProgress) -> None:
        printer(attrs.evolve(progress, total=total))

    return report


async def _count_lines(path: trio.Path) -> int:
    def count() -> int:
        with Path(path).open("rb") as lines:
            return sum(1 for line in lines if line.strip())

    return await trio.to_thread.run_sync(count)
