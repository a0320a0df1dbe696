"""``recordings list|show|delete`` and ``trace`` over recordings the CLI made."""

from __future__ import annotations

import re

import pytest

from openharness_actors import HarnessError, Recording, SqliteSignalStore

from .cli_helpers import Cli, load_fixture


@pytest.fixture
async def recorded(cli: Cli) -> dict[str, str]:
    """Three recordings in recs.db, made in-process (fast): alpha and beta completed and
    tagged, gamma failed; name -> id."""
    analyze, factories = load_fixture("analyze"), load_fixture("factories")
    store = SqliteSignalStore(cli.directory / "recs.db")
    ids = {}
    for name, tags, options in (
        ("alpha", ["ci", "nightly"], {"agents": analyze.agents, "harness": analyze.harness}),
        ("beta", ["ci"], {"agents": analyze.agents, "harness": analyze.harness}),
        ("gamma", [], factories.failing()),
    ):
        options.pop("workflow", None)
        recording = Recording(mode="record", store=store, name=name, tags=tags)
        try:
            result = await analyze.workflow.run_reactive(
                state=analyze.State("hello"), recording=recording, **options
            )
        except HarnessError as exc:
            result = exc.partial
        assert result is not None and result.recording_id is not None
        ids[name] = result.recording_id
    return ids


async def test_list_filters_by_name_tag_and_status_and_pages(
    cli: Cli, recorded: dict[str, str]
) -> None:
    """list filters by name, every tag, status, and pages newest first with limit/offset."""
    store = ("--store", "recs.db", "--json")
    everything, by_name, by_tags, failed, page = await cli.all(
        ("recordings", "list", *store),
        ("recordings", "list", "--name", "beta", *store),
        ("recordings", "list", "--tag", "ci", "--tag", "nightly", *store),
        ("recordings", "list", "--status", "failed", *store),
        ("recordings", "list", "--limit", "1", "--offset", "1", *store),
    )
    ids = [info["id"] for info in everything.json()]
    assert sorted(ids) == sorted(recorded.values())
    assert [i["id"] for i in by_name.json()] == [recorded["beta"]]
    assert [i["id"] for i in by_tags.json()] == [recorded["alpha"]]
    assert [i["id"] for i in failed.json()] == [recorded["gamma"]]
    assert [i["id"] for i in page.json()] == ids[1:2]


async def test_list_prints_a_table(cli: Cli, recorded: dict[str, str]) -> None:
    """Human list: a header and one row per recording with name, status and tags."""
    done = await cli("recordings", "list", "--store", "recs.db")
    assert done.code == 0, done.err
    header, *rows = done.out.splitlines()
    assert header.split() == ["ID", "NAME", "STATUS", "SIGNALS", "CREATED", "DURATION", "TAGS"]
    alpha = next(row for row in rows if row.startswith(recorded["alpha"]))
    assert alpha.split()[1:3] == ["alpha", "completed"] and alpha.endswith("ci,nightly")
    empty = await cli("recordings", "list", "--store", "recs.db", "--name", "nobody")
    assert empty.out.strip() == "no recordings"


async def test_show_prints_info_and_signals_filtered_by_pattern(
    cli: Cli, recorded: dict[str, str]
) -> None:
    """show prints the info and the signals, or only those matching --pattern; --json too."""
    human, as_json = await cli.all(
        (
            "recordings",
            "show",
            recorded["alpha"],
            "--store",
            "recs.db",
            "--pattern",
            "state:*:changed",
        ),
        ("recordings", "show", recorded["gamma"], "--store", "recs.db", "--json"),
    )
    assert human.code == 0, human.err
    assert f"id:       {recorded['alpha']}" in human.out
    assert "status:   completed" in human.out
    assert "2 signal(s) matching 'state:*:changed':" in human.out
    assert re.search(r"\[\d+\] state:summary:changed \(summarizer\) = \"summarizer says", human.out)
    document = as_json.json()
    assert document["info"]["status"] == "failed"
    names = [signal["name"] for signal in document["signals"]]
    assert names[0] == "workflow:start" and names[-1] == "workflow:end"
    assert "harness:error" in names


async def test_delete_removes_recordings(cli: Cli, recorded: dict[str, str]) -> None:
    """delete removes the given recordings; showing one afterwards is a store error."""
    done = await cli(
        "recordings", "delete", recorded["alpha"], recorded["beta"], "--store", "recs.db"
    )
    assert done.code == 0, done.err
    assert done.out.splitlines() == [f"deleted {recorded['alpha']}", f"deleted {recorded['beta']}"]
    listed, shown = await cli.all(
        ("recordings", "list", "--store", "recs.db", "--json"),
        ("recordings", "show", recorded["alpha"], "--store", "recs.db"),
    )
    assert [info["id"] for info in listed.json()] == [recorded["gamma"]]
    assert shown.code == 5


def depth(line: str) -> int:
    """The tree depth of a trace line (three columns per level)."""
    return line.index("[") // 3


async def test_trace_prints_the_causality_tree(cli: Cli, recorded: dict[str, str]) -> None:
    """trace nests each signal under its cause: the summarizer's work under the analysis."""
    done = await cli("trace", recorded["alpha"], "--store", "recs.db", "--exclude", "text:delta")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0].startswith("[0] workflow:start")
    assert lines[-1].startswith("└─ [") and "workflow:end" in lines[-1]
    assert '"status":"completed"' in lines[-1]
    assert not any("text:delta" in line for line in lines)
    at = {
        line.split("] ", 1)[1].split(" {")[0].split(" =")[0].split(' "')[0]: line for line in lines
    }
    analysis = at["analysis:complete (analyzer)"]
    summarizer = at["agent:activated (summarizer)"]
    assert depth(at["agent:activated (analyzer)"]) == 1
    assert depth(analysis) == 2
    assert depth(summarizer) == 3 and lines.index(summarizer) == lines.index(analysis) + 1
    assert depth(at["state:summary:changed (summarizer)"]) == 4
    assert '= "summarizer says: ANALYZER SAYS: HELLO"' in at["state:summary:changed (summarizer)"]


async def test_show_and_trace_take_the_name_replay_takes(
    cli: Cli, recorded: dict[str, str]
) -> None:
    """`recordings show NAME` and `trace NAME` pick the recording `--replay NAME` would (the
    newest finished one of that name); an unknown name is a store error naming it."""
    by_name, by_id, shown, unknown = await cli.all(
        ("trace", "alpha", "--store", "recs.db"),
        ("trace", recorded["alpha"], "--store", "recs.db"),
        ("recordings", "show", "beta", "--store", "recs.db", "--json"),
        ("recordings", "show", "delta", "--store", "recs.db"),
    )
    assert by_name.code == 0, by_name.err
    assert by_name.out == by_id.out and "workflow:end" in by_name.out
    assert shown.json()["info"]["id"] == recorded["beta"]
    assert unknown.code == 5 and "no recording with id or name 'delta'" in unknown.err


async def test_delete_checks_every_id_before_deleting_any(
    cli: Cli, recorded: dict[str, str]
) -> None:
    """`recordings delete A B` with B missing deletes nothing and names B; with every one
    present (ids or names) it deletes them all."""
    refused = await cli(
        "recordings", "delete", recorded["alpha"], "no-such-id", "--store", "recs.db"
    )
    assert refused.code == 5
    assert "'no-such-id'" in refused.err and "nothing deleted" in refused.err
    assert refused.out == ""
    listed = await cli("recordings", "list", "--store", "recs.db", "--json")
    assert sorted(info["id"] for info in listed.json()) == sorted(recorded.values())
    done = await cli("recordings", "delete", recorded["alpha"], "beta", "--store", "recs.db")
    assert done.code == 0, done.err
    assert done.out.splitlines() == [f"deleted {recorded['alpha']}", f"deleted {recorded['beta']}"]
    listed = await cli("recordings", "list", "--store", "recs.db", "--json")
    assert [info["id"] for info in listed.json()] == [recorded["gamma"]]
