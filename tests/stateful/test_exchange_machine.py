"""The exchange as a Hypothesis state machine: random event sequences, invariants after each step.

Each machine drives one profile's first market with deposits, withdrawals, trades (within
margin or not), leverage changes, price moves, funding samples and settlements, and random
invalid events (unknown ids, off-tick prices, time going backwards, ...). Accepted or
rejected, no event may raise; a rejection must return the same exchange object and cite an
``ENG-*`` rule; every INV-nn of spec/invariants.md is an ``@invariant``; at teardown the whole
event list is replayed and must give the same digest and the same output bytes (INV-06).

Each profile runs twice: with a published mark (the venue's marks replayed) and with the
mark computed by the profile's ``[mark]`` variant from index/oracle prices, book snapshots and
trades (ENG-MRK-01); funding samples come with or without a premium (ENG-FSM-01) and
settlements with or without a rate (ENG-FUND-01).

Fast by default (a few profiles, short runs); ``PERPSPEC_LONG=1`` runs every bundled profile
with many more and longer examples. Deterministic: ``derandomize=True``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from perpspec.engine import step
from perpspec.events import (
    BookSnapshot,
    ClockTick,
    Deposit,
    Fill,
    FillOut,
    FundingSample,
    FundingSettlement,
    IndexPrice,
    MarkPrice,
    OraclePrice,
    Reject,
    SetLeverage,
    SetMarginMode,
    Withdraw,
    encode_output,
)
from perpspec.oracle.digest import digest
from perpspec.profiles import bundled_names, load_profile
from perpspec.state import Exchange, initial_exchange, invariant_violations
from perpspec.traceability import index

LONG = os.environ.get("PERPSPEC_LONG") == "1"
FAST_PROFILES = ["binance-usdm", "bitmex-xbtusd", "hyperliquid", "dydx-v4"]
PROFILES = bundled_names() if LONG else FAST_PROFILES
SETTINGS = settings(
    max_examples=300 if LONG else 20,
    stateful_step_count=80 if LONG else 40,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
ACCOUNTS = ["a", "b", "c", "d"]
ENGINE_RULES = {r.id for r in index(Path(__file__).resolve().parents[2])[0]}


class ExchangeMachine(RuleBasedStateMachine):
    """Random valid and invalid events against one profile; invariants after every step."""

    profile_name = "binance-usdm"
    publish_mark = True

    def __init__(self) -> None:
        super().__init__()
        self.profile = load_profile(self.profile_name)
        self.symbol = sorted(self.profile.markets)[0]
        spec = self.profile.markets[self.symbol]
        self.tick, self.lot = spec.tick, spec.lot
        self.base_ticks = max(1, (30_000 * 10**self.profile.scales.price_decimals) // self.tick)
        self.unit = 10**self.profile.scales.money_decimals
        self.ex: Exchange = initial_exchange(self.profile)
        self.events: list[Any] = []
        self.outputs: list[bytes] = []
        self.t = 0
        self.fill_sides = 0
        self.last_t = 0

    # -- helpers -------------------------------------------------------------------------

    def apply(self, ev: Any, expect_reject: bool = False) -> list[Any]:
        before = self.ex
        ex, outs = step(before, ev)
        self.events.append(ev)
        self.outputs.extend(encode_output(o, self.profile) for o in outs)
        rejects = [o for o in outs if isinstance(o, Reject)]
        if rejects:
            assert ex is before, "INV-05: a rejected event must return the same exchange object"
            assert len(outs) == 1, outs
            assert rejects[0].rule_id in ENGINE_RULES, rejects[0]
            assert rejects[0].rule_id.startswith("ENG-"), rejects[0]
        else:
            assert not expect_reject, f"expected a rejection for {ev}, got {outs}"
            self.fill_sides += 2 * sum(1 for o in outs if isinstance(o, FillOut) and o.realized_pnl != 0)
        self.ex = ex
        return outs

    def price(self, offset: int) -> int:
        return (self.base_ticks + offset) * self.tick

    def tick_time(self, dt: int) -> int:
        self.t += dt
        return self.t

    # -- rules ---------------------------------------------------------------------------

    @initialize(
        amounts=st.lists(st.integers(1_000, 1_000_000), min_size=len(ACCOUNTS), max_size=len(ACCOUNTS))
    )
    def fund(self, amounts: list[int]) -> None:
        for acct, amount in zip(ACCOUNTS, amounts, strict=True):
            self.apply(Deposit(self.t, acct, amount * self.unit))
        if self.publish_mark:
            self.apply(MarkPrice(self.t, self.symbol, self.price(0)))
        else:
            self.apply(IndexPrice(self.t, self.symbol, self.price(0)))
            self.apply(OraclePrice(self.t, self.symbol, self.price(0)))

    @rule(acct=st.sampled_from(ACCOUNTS), amount=st.integers(1, 100_000), dt=st.integers(0, 1000))
    def deposit(self, acct: str, amount: int, dt: int) -> None:
        self.apply(Deposit(self.tick_time(dt), acct, amount * self.unit))

    @rule(acct=st.sampled_from(ACCOUNTS), frac=st.integers(1, 100), dt=st.integers(0, 1000))
    def withdraw(self, acct: str, frac: int, dt: int) -> None:
        coll = self.ex.accounts[acct].collateral
        amount = max(1, coll * frac // 100)
        self.apply(Withdraw(self.tick_time(dt), acct, amount))

    @rule(
        buyer=st.sampled_from(ACCOUNTS),
        shift=st.integers(1, len(ACCOUNTS) - 1),
        lots=st.integers(1, 2_000),
        offset=st.integers(-300, 300),
        maker=st.sampled_from(["buyer", "seller"]),
        reduce_only=st.sampled_from([False, False, False, True]),
        dt=st.integers(0, 1000),
    )
    def trade(
        self, buyer: str, shift: int, lots: int, offset: int, maker: str, reduce_only: bool, dt: int
    ) -> None:
        seller = ACCOUNTS[(ACCOUNTS.index(buyer) + shift) % len(ACCOUNTS)]
        ev = Fill(
            t=self.tick_time(dt),
            symbol=self.symbol,
            qty=lots * self.lot,
            price=self.price(offset),
            buyer=buyer,
            seller=seller,
            maker=maker,
            seller_reduce_only=reduce_only,
        )
        self.apply(ev)

    @rule(acct=st.sampled_from(ACCOUNTS), leverage=st.integers(1, 150), dt=st.integers(0, 1000))
    def set_leverage(self, acct: str, leverage: int, dt: int) -> None:
        self.apply(SetLeverage(self.tick_time(dt), acct, self.symbol, leverage))

    @rule(acct=st.sampled_from(ACCOUNTS), isolated=st.booleans(), dt=st.integers(0, 1000))
    def set_margin_mode(self, acct: str, isolated: bool, dt: int) -> None:
        self.apply(SetMarginMode(self.tick_time(dt), acct, self.symbol, "isolated" if isolated else "cross"))

    @rule(
        kind=st.sampled_from(["mark", "index", "oracle"]),
        offset=st.integers(-3_000, 3_000),
        dt=st.integers(0, 60_000),
    )
    def move_price(self, kind: str, offset: int, dt: int) -> None:
        if kind == "mark" and not self.publish_mark:
            kind = "index"
        cls = {"mark": MarkPrice, "index": IndexPrice, "oracle": OraclePrice}[kind]
        self.apply(cls(self.tick_time(dt), self.symbol, max(self.tick, self.price(offset))))

    @rule(
        offset=st.integers(-300, 300),
        spread=st.integers(1, 20),
        levels=st.integers(1, 3),
        depth=st.integers(1, 10**7),
        dt=st.integers(0, 5_000),
    )
    def book(self, offset: int, spread: int, levels: int, depth: int, dt: int) -> None:
        mid = self.base_ticks + offset
        bids = tuple(
            ((mid - spread - i) * self.tick, depth * self.lot) for i in range(levels) if mid - spread - i > 0
        )
        asks = tuple(((mid + spread + i) * self.tick, depth * self.lot) for i in range(levels))
        self.apply(BookSnapshot(self.tick_time(dt), self.symbol, bids, asks))

    @rule(acct=st.sampled_from(ACCOUNTS), leverage=st.integers(1, 20), dt=st.integers(0, 1000))
    def set_leverage_elsewhere(self, acct: str, leverage: int, dt: int) -> None:
        """Settings in a market that never gets a price (the KeyError regression, ENG-PRC-01)."""
        other = sorted(self.profile.markets)[-1]
        self.apply(SetLeverage(self.tick_time(dt), acct, other, leverage))

    @rule(premium=st.one_of(st.none(), st.integers(-200_000, 200_000)), dt=st.integers(0, 5_000))
    def funding_sample(self, premium: int | None, dt: int) -> None:
        self.apply(FundingSample(self.tick_time(dt), self.symbol, premium))

    @rule(rate=st.one_of(st.none(), st.integers(-400_000, 400_000)), dt=st.integers(0, 3_600_000))
    def funding_settlement(self, rate: int | None, dt: int) -> None:
        self.apply(FundingSettlement(self.tick_time(dt), self.symbol, rate))

    @precondition(lambda self: self.ex.t > 0)
    @rule(
        which=st.sampled_from(
            ["past", "unknown-account", "unknown-market", "off-tick", "self-trade", "off-lot"]
        ),
        acct=st.sampled_from(ACCOUNTS),
    )
    def invalid_event(self, which: str, acct: str) -> None:
        t = self.ex.t
        other = "a" if acct != "a" else "b"
        good: dict[str, Any] = {
            "t": t,
            "symbol": self.symbol,
            "qty": self.lot,
            "price": self.price(0),
            "maker": "seller",
        }
        if which == "past":
            ev: Any = ClockTick(t - 1)
        elif which == "unknown-account":
            ev = Fill(buyer="nobody", seller=acct, **good)
        elif which == "unknown-market":
            ev = MarkPrice(t, "NO-SUCH-MARKET", self.price(0))
        elif which == "off-tick":
            if self.tick == 1:
                ev = Withdraw(t, "nobody", 1)
            else:
                ev = Fill(
                    buyer=acct, seller="a" if acct != "a" else "b", **{**good, "price": self.price(0) + 1}
                )
        elif which == "off-lot":
            if self.lot == 1:
                ev = SetLeverage(t, "nobody", self.symbol, 1)
            else:
                ev = Fill(buyer=acct, seller=other, **{**good, "qty": self.lot + 1})
        else:
            ev = Fill(buyer=acct, seller=acct, **good)
        self.apply(ev, expect_reject=True)

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def state_invariants(self) -> None:
        """INV-01, INV-02, INV-03, INV-04, INV-07."""
        problems = invariant_violations(self.ex, rounding_allowance=self.fill_sides)
        assert problems == [], problems

    @invariant()
    def mark_source(self) -> None:
        """ENG-MRK-01: a published mark takes precedence for good; a model mark has a source."""
        m = self.ex.markets[self.symbol]
        if self.publish_mark:
            assert m.mark_source == "published"
        else:
            assert m.mark_source in (None, "model")
            assert (m.mark is None) == (m.mark_source is None)

    @invariant()
    def time_is_monotone(self) -> None:
        """INV-08."""
        assert self.ex.t >= self.last_t
        self.last_t = self.ex.t

    def teardown(self) -> None:
        """INV-06: replaying the same events gives the same digest and the same output bytes."""
        ex = initial_exchange(self.profile)
        outs: list[bytes] = []
        for ev in self.events:
            ex, o = step(ex, ev)
            outs.extend(encode_output(x, self.profile) for x in o)
        assert digest(ex) == digest(self.ex)
        assert outs == self.outputs


def _machine(profile: str, publish_mark: bool) -> type[ExchangeMachine]:
    name = f"Machine_{profile.replace('-', '_')}_{'published' if publish_mark else 'model'}"
    return type(name, (ExchangeMachine,), {"profile_name": profile, "publish_mark": publish_mark})


@pytest.mark.rule(
    "INV-01", "INV-02", "INV-03", "INV-04", "INV-05", "INV-06", "INV-07", "INV-08", "ENG-MRK-01", "ENG-FSM-01"
)
@pytest.mark.parametrize("mark", ["published", "model"])
@pytest.mark.parametrize("profile", PROFILES)
def test_exchange_machine(profile: str, mark: str) -> None:
    machine = _machine(profile, mark == "published")
    machine.TestCase.settings = SETTINGS
    machine.TestCase().runTest()
