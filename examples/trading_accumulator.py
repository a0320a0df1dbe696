"""A reducer-driven accumulator: market ticks become signals, reducers keep the book.

Run it: ``python examples/trading_accumulator.py``. With ``ANTHROPIC_API_KEY`` set the trader
is Claude; without, a scripted momentum rule trades, so it works offline. Prices are a fixed,
made-up series (this is a demonstration of signals and reducers, not of trading).

* ``feed`` is plain Python (no model): on ``workflow:start`` and after each of its own ticks it
  publishes the next price as a ``tick`` (a real feed would await a socket instead).
* ``trader`` wakes on every ``tick``, one at a time and in order, and answers with a structured
  :class:`Order` that it emits as ``order``.
* Two reducers, applied one at a time by the state actor (so none is lost or torn, however
  the agents interleave): ``tick`` marks the position to market and tracks the drawdown;
  ``order`` fills the order at the latest price and updates cash, quantity and trades.

The run ends by itself at quiescence: the feed runs out of prices, the trader answers the
last tick, and nothing is left to do.
"""

from __future__ import annotations

import os
import re

import attrs
import trio

from openharness_actors import (
    AgentContext,
    Harness,
    HarnessRequest,
    ScriptedHarness,
    Signal,
    WorkflowResult,
    create_workflow,
)

PRICES = [100.0, 101.2, 102.6, 103.1, 102.0, 100.4, 99.1, 99.8, 101.5, 103.2, 104.0, 102.2]
LOT = 10


@attrs.frozen
class Tick:
    index: int
    price: float


@attrs.frozen
class Order:
    action: str  # "buy", "sell" or "hold"
    quantity: int = 0


@attrs.frozen
class Fill:
    quantity: int  # negative for a sale
    price: float


@attrs.frozen
class Book:
    cash: float = 10_000.0
    quantity: int = 0
    trades: int = 0
    price: float = 0.0
    peak_equity: float = 10_000.0
    max_drawdown: float = 0.0
    fills: tuple[Fill, ...] = ()

    @property
    def equity(self) -> float:
        return self.cash + self.quantity * self.price


@attrs.frozen
class State:
    tick: Tick | None = None
    order: Order | None = None
    book: Book = Book()


workflow = create_workflow(State)


async def next_tick(ctx: AgentContext[State]) -> Tick:
    await trio.sleep(0.02)  # the market's pace
    index = 0 if ctx.state.tick is None else ctx.state.tick.index + 1
    return Tick(index, PRICES[index])


feed = workflow.agent(
    body=next_tick,
    activate_on=["workflow:start", "tick"],
    when=lambda ctx: ctx.state.tick is None or ctx.state.tick.index + 1 < len(PRICES),
    updates="tick",
    emits=["tick"],
)


def trader_prompt(ctx: AgentContext[State]) -> str:
    tick = ctx.signal.payload["output"]
    previous = PRICES[tick["index"] - 1] if tick["index"] else tick["price"]
    book = ctx.state.book
    return (
        f"price: {tick['price']}\nprevious: {previous}\nholding: {book.quantity}\n"
        f"cash: {book.cash:.2f}\nLot size is {LOT} shares."
    )


trader = workflow.agent(
    system='You trade one stock. Reply with JSON only: {"action": "buy"|"sell"|"hold", '
    '"quantity": <int>}. Never sell more than you hold.',
    prompt=trader_prompt,
    activate_on=["tick"],
    max_concurrency=1,  # decisions in tick order
    output=Order,
    updates="order",
    emits=["order"],
)


def mark_to_market(state: State, signal: Signal) -> State:
    book = attrs.evolve(state.book, price=signal.payload["output"]["price"])
    peak = max(book.peak_equity, book.equity)
    drawdown = max(book.max_drawdown, (peak - book.equity) / peak)
    return attrs.evolve(state, book=attrs.evolve(book, peak_equity=peak, max_drawdown=drawdown))


def fill(state: State, signal: Signal) -> State:
    action, quantity = signal.payload["action"], int(signal.payload.get("quantity", 0))
    book = state.book
    if action == "sell":
        quantity = -min(quantity, book.quantity)
    elif action != "buy" or quantity * book.price > book.cash:
        return state
    if quantity == 0:
        return state
    book = attrs.evolve(
        book,
        cash=book.cash - quantity * book.price,
        quantity=book.quantity + quantity,
        trades=book.trades + 1,
        fills=(*book.fills, Fill(quantity, book.price)),
    )
    return attrs.evolve(state, book=book)


def momentum(request: HarnessRequest) -> str:
    """The offline trader: buy a lot after a rise over 1%, sell one after a fall over 1%."""
    value = {k: float(v) for k, v in re.findall(r"^(\w+): ([\d.]+)$", request.prompt, re.M)}
    move = (value["price"] - value["previous"]) / value["previous"]
    if move > 0.01:
        return f'{{"action": "buy", "quantity": {LOT}}}'
    if move < -0.01 and value["holding"] > 0:
        return f'{{"action": "sell", "quantity": {LOT}}}'
    return '{"action": "hold", "quantity": 0}'


def make_harness() -> Harness:
    """Claude when a key is available, otherwise the momentum rule."""
    if os.environ.get("ANTHROPIC_API_KEY"):
        from openharness_actors import AnthropicHarness

        return AnthropicHarness()  # the current Sonnet; key from ANTHROPIC_API_KEY
    return ScriptedHarness({"trader": momentum})


async def trade(harness: Harness | None = None) -> WorkflowResult[State]:
    return await workflow.run_reactive(
        agents={"feed": feed, "trader": trader},
        state=State(),
        harness=harness or make_harness(),
        reducers={"tick": mark_to_market, "order": fill},
        max_activations=4 * len(PRICES),
        timeout=600,
    )


async def main() -> None:
    result = await trade()
    book = result.state.book
    for done in book.fills:
        side = "buy " if done.quantity > 0 else "sell"
        print(f"  {side} {abs(done.quantity):>3} @ {done.price:7.2f}")
    start = Book().equity
    print(
        f"\n{len(PRICES)} ticks, {book.trades} trades; holding {book.quantity} @ "
        f"{book.price:.2f}, cash {book.cash:.2f}\nequity {book.equity:.2f} "
        f"({(book.equity - start) / start:+.2%}), max drawdown {book.max_drawdown:.2%}"
    )
    print(
        f"{result.metrics.signals_by_name['tick']} tick and "
        f"{result.metrics.signals_by_name.get('order', 0)} order signals, "
        f"{result.status} in {result.metrics.duration_ms / 1000:.2f}s"
    )


if __name__ == "__main__":
    trio.run(main)
