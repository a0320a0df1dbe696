"""Rough edges a newcomer hits (issue 14, item 7): global options after the subcommand,
unknown state keys named."""

from __future__ import annotations

from openharness_actors.cli._app import build_parser

from .cli_helpers import ANALYZE, HELLO, Cli


def test_log_level_is_accepted_before_and_after_the_subcommand() -> None:
    """--log-level parses before the command, after it, and after a nested action; the one
    after the command wins, and leaving it out keeps the top-level value."""
    parser = build_parser()
    assert parser.parse_args(["--log-level", "info", "trace", "x"]).log_level == "info"
    assert parser.parse_args(["trace", "x", "--log-level", "debug"]).log_level == "debug"
    after = parser.parse_args(["recordings", "list", "--log-level", "error"])
    assert after.log_level == "error"
    both = parser.parse_args(["--log-level", "info", "recordings", "show", "x"])
    assert both.log_level == "info"
    assert parser.parse_args(["recordings", "list"]).log_level is None


async def test_log_level_after_the_subcommand_takes_effect(cli: Cli) -> None:
    """`run ... --log-level debug` logs the library's debug events on stderr, and a bad level
    given after the subcommand is a usage error naming it."""
    done, bad = await cli.all(
        ("run", ANALYZE, "--state", HELLO, "--quiet", "--log-level", "debug"),
        ("recordings", "list", "--log-level", "loud"),
    )
    assert done.code == 0, done.err
    assert '"event": "run_started"' in done.err and '"level": "debug"' in done.err
    assert bad.code == 2 and "unknown log level 'loud'" in bad.err


async def test_unknown_state_key_is_named(cli: Cli) -> None:
    """--state with a misspelt key fails with exit 2 naming the key and the field it is
    probably meant to be; an extra key is refused rather than silently dropped."""
    typo, extra = await cli.all(
        ("run", ANALYZE, "--state", '{"inptu": "x"}', "--quiet"),
        ("run", ANALYZE, "--state", '{"input": "x", "colour": "red"}', "--quiet"),
    )
    assert typo.code == 2
    assert "unknown key 'inptu'" in typo.err and "did you mean 'input'" in typo.err
    assert "required field missing @ state.input" in typo.err
    assert extra.code == 2 and "unknown key 'colour'" in extra.err
