"""The agent mailbox (``_core._mailbox``): bounded FIFO, one sender, one receiver."""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing

from openharness_actors._core._mailbox import Mailbox


@pytest.mark.parametrize("size", [0, 1, 3, math.inf])
async def test_every_item_arrives_in_order(size: float) -> None:
    box: Mailbox[int] = Mailbox(size)
    got: list[int | None] = []

    async def receive() -> None:
        for _ in range(200):
            got.append(await box.get())

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(receive)
            for i in range(200):
                if not box.put_nowait(i):
                    await box.put(i)
    assert got == list(range(200))


async def test_size_zero_sender_first_then_receiver() -> None:
    """A sender waiting on a size-0 mailbox is answered by a receiver that arrives later (a
    lost wake-up here once left both waiting for each other)."""
    box: Mailbox[str] = Mailbox(0)
    assert not box.put_nowait("x")  # nobody receives yet
    got: list[str | None] = []
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(box.put, "x")
            await trio.testing.wait_all_tasks_blocked()  # the sender waits
            got.append(await box.get())
    assert got == ["x"]


async def test_put_waits_while_full_and_a_cancelled_put_queues_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    box: Mailbox[int] = Mailbox(1)
    assert box.put_nowait(1)
    assert not box.put_nowait(2)
    with trio.move_on_after(1) as scope:  # the autojump clock: no real time passes
        await box.put(2)
    assert scope.cancelled_caught
    assert len(box) == 1
    assert await box.get() == 1
    assert len(box) == 0


async def test_close_wakes_a_waiting_receiver_with_none() -> None:
    box: Mailbox[int] = Mailbox(4)
    got: list[int | None] = []

    async def receive() -> None:
        got.append(await box.get())

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(receive)
            await trio.testing.wait_all_tasks_blocked()  # the receiver waits
            box.close()
    assert got == [None]


async def test_close_lets_queued_items_out_first() -> None:
    box: Mailbox[int] = Mailbox(4)
    assert box.put_nowait(1) and box.put_nowait(2)
    box.close()
    assert [await box.get(), await box.get(), await box.get(), await box.get()] == [
        1,
        2,
        None,
        None,
    ]
