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

The machine emits every event kind of spec/events.md (checked by
``test_the_machine_emits_every_event_kind``): besides the above, position-mode switches and
hedge-mode slots, isolated margin transfers both ways (ENG-ISO-01/02, INV-03), index prices
from constituent sources (ENG-IDX-01), clock ticks and parameter changes (ENG-PAR-01); and
hostile magnitudes: prices from one tick to 10^15 ticks, sizes up to 10^12 lots, deposits up
to 10^18 money units of the profile, funding rates up to +-10,000% (10^10 in 10^-8).

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
from perpspec import account as acc_mod
from perpspec.engine import step
from perpspec.engine.common import oi_notional
from perpspec.engine.liquidation import triggered, unit_id, unit_view
from perpspec.events import (
    EVENT_KINDS,
    BookSnapshot,
    ClockTick,
    Deposit,
    Fill,
    FillOut,
    FundingSample,
    FundingSettlement,
    IndexPrice,
    IsolatedMarginTransfer,
    Liquidation,
    LiquidationOut,
    MarkPrice,
    OraclePrice,
    ParamChange,
    Reject,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
    UncoveredLossOut,
    Withdraw,
    encode_output,
)
from perpspec.oracle.digest import digest
from perpspec.profiles import bundled_names, load_profile
from perpspec.state import Exchange, initial_exchange, invariant_violations
from perpspec.traceability import index
from perpspec.units import format_units

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
SLOTS = ["BOTH", "LONG", "SHORT"]
#: Hostile magnitudes (issue 8 item 4).
MAX_PRICE_TICKS = 10**15
MAX_LOTS = 10**12
MAX_RATE = 10**10  # 10,000% in 10^-8
#: Every event kind the machine emitted, over all runs of the session.
EMITTED: set[str] = set()
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
        # a second market traded cross (INV-03: cross bad debt next to an isolated position)
        self.other = sorted(self.profile.markets)[-1]
        ospec = self.profile.markets[self.other]
        self.other_tick, self.other_lot = ospec.tick, ospec.lot
        self.other_base = max(1, (3_000 * 10**self.profile.scales.price_decimals) // self.other_tick)
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
        EMITTED.add(type(ev).kind)
        self.events.append(ev)
        self.outputs.extend(encode_output(o, self.profile) for o in outs)
        rejects = [o for o in outs if isinstance(o, Reject)]
        if rejects:
            assert ex is before, "INV-05: a rejected event must return the same exchange object"
            assert len(outs) == 1, outs
            assert rejects[0].rule_id in ENGINE_RULES, rejects[0]
            assert rejects[0].rule_id.startswith(("ENG-", "LIQ-")), rejects[0]
        else:
            assert not expect_reject, f"expected a rejection for {ev}, got {outs}"
            self.fill_sides += 2 * sum(
                1 for o in outs if isinstance(o, (FillOut, LiquidationOut)) and o.realized_pnl != 0
            )
            if isinstance(ev, (MarkPrice, IndexPrice, OraclePrice, BookSnapshot, ClockTick)):
                self._liquidations_reduce_risk(before, ex, outs)
        self.ex = ex
        return outs

    def _liquidations_reduce_risk(self, before: Exchange, after: Exchange, outs: list[Any]) -> None:
        """A liquidation never raises the risk of the unit it acts on: at the prices after the
        event (which changed no account by itself), the unit's maintenance margin does not grow;
        on dydx-v4 its NC/MM ratio does not get worse either (dYdX's rule for liquidation fills,
        ENG-IMR-01's transition check). A cross part closed below bankruptcy ends at zero (the
        bankruptcy price's outcome) unless an uncovered loss is recorded for what the fund could
        not pay (LIQ-SET-02, LIQ-UNC-01)."""
        marks = after.marks()
        oi = oi_notional(after, marks)
        for o in outs:
            if not isinstance(o, LiquidationOut):
                continue
            old, new = before.accounts[o.account], after.accounts[o.account]
            key = (o.symbol, o.slot)
            iso = old.positions[key].isolated
            if iso:
                c0 = acc_mod.isolated_equity(old, key, marks, self.profile)
                m0 = acc_mod.isolated_requirement(old, key, marks, self.profile, oi).maintenance
                if new.positions.get(key) is None or new.positions[key].size == 0:
                    c1 = m1 = 0
                else:
                    c1 = acc_mod.isolated_equity(new, key, marks, self.profile)
                    m1 = acc_mod.isolated_requirement(new, key, marks, self.profile, oi).maintenance
            else:
                c0 = acc_mod.collateral(old, marks, self.profile, initial=False)
                m0 = acc_mod.requirement(old, marks, self.profile, oi).maintenance
                c1 = acc_mod.collateral(new, marks, self.profile, initial=False)
                m1 = acc_mod.requirement(new, marks, self.profile, oi).maintenance
            assert m1 <= m0, ("a liquidation raised the maintenance margin", o, m0, m1)
            closed = not any(p.size for k, p in new.positions.items() if not p.isolated)
            if not iso and closed and new.collateral < 0:
                # closed below bankruptcy: the fund made it whole, or the rest is uncovered (LIQ-UNC-01)
                assert any(isinstance(u, UncoveredLossOut) and u.account == o.account for u in outs), (o, new)
            if self.profile_name == "dydx-v4" and m1 > 0 and c0 > 0:
                assert c1 * m0 >= c0 * m1, ("a liquidation worsened NC/MM", o, (c0, m0), (c1, m1))

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
        # one account starts isolated in the first market (cross in the second): INV-03 needs
        # cross bad debt next to an isolated position
        self.apply(SetMarginMode(self.t, ACCOUNTS[-1], self.symbol, "isolated"))
        for sym, price in ((self.symbol, self.price(0)), (self.other, self.other_base * self.other_tick)):
            if self.publish_mark:
                self.apply(MarkPrice(self.t, sym, price))
            else:
                self.apply(IndexPrice(self.t, sym, price))
                self.apply(OraclePrice(self.t, sym, price))

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
        slots=st.sampled_from(
            [("BOTH", "BOTH")] * 3 + [("LONG", "SHORT"), ("SHORT", "LONG"), ("LONG", "LONG")]
        ),
    )
    def trade(
        self,
        buyer: str,
        shift: int,
        lots: int,
        offset: int,
        maker: str,
        reduce_only: bool,
        dt: int,
        slots: tuple[str, str],
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
            buyer_slot=slots[0],
            seller_slot=slots[1],
            seller_reduce_only=reduce_only,
        )
        self.apply(ev)

    @rule(
        buyer=st.sampled_from(ACCOUNTS),
        shift=st.integers(1, len(ACCOUNTS) - 1),
        lots=st.integers(1, MAX_LOTS),
        ticks=st.integers(1, MAX_PRICE_TICKS),
        maker=st.sampled_from(["buyer", "seller"]),
        fee=st.one_of(st.none(), st.integers(-MAX_RATE, MAX_RATE)),
        dt=st.integers(0, 1000),
    )
    def hostile_trade(
        self, buyer: str, shift: int, lots: int, ticks: int, maker: str, fee: int | None, dt: int
    ) -> None:
        """Sizes up to 10^12 lots at prices up to 10^15 ticks, fee rates up to +-10,000%."""
        seller = ACCOUNTS[(ACCOUNTS.index(buyer) + shift) % len(ACCOUNTS)]
        ev = Fill(
            t=self.tick_time(dt),
            symbol=self.symbol,
            qty=lots * self.lot,
            price=ticks * self.tick,
            buyer=buyer,
            seller=seller,
            maker=maker,
            buyer_fee_rate=fee,
        )
        self.apply(ev)

    @rule(acct=st.sampled_from(ACCOUNTS), amount=st.integers(1, 10**18), dt=st.integers(0, 1000))
    def hostile_deposit(self, acct: str, amount: int, dt: int) -> None:
        self.apply(Deposit(self.tick_time(dt), acct, amount))

    @rule(
        kind=st.sampled_from(["mark", "index", "oracle"]),
        ticks=st.integers(1, MAX_PRICE_TICKS),
        dt=st.integers(0, 60_000),
    )
    def hostile_price(self, kind: str, ticks: int, dt: int) -> None:
        """A price anywhere from one tick to 10^15 ticks."""
        if kind == "mark" and not self.publish_mark:
            kind = "index"
        cls = {"mark": MarkPrice, "index": IndexPrice, "oracle": OraclePrice}[kind]
        self.apply(cls(self.tick_time(dt), self.symbol, ticks * self.tick))

    @rule(acct=st.sampled_from(ACCOUNTS), hedge=st.booleans(), dt=st.integers(0, 1000))
    def set_position_mode(self, acct: str, hedge: bool, dt: int) -> None:
        self.apply(SetPositionMode(self.tick_time(dt), acct, "hedge" if hedge else "one-way"))

    @rule(
        acct=st.sampled_from(ACCOUNTS),
        slot=st.sampled_from(SLOTS),
        permille=st.integers(-1_200, 1_200),
        dt=st.integers(0, 1000),
    )
    def isolated_transfer(self, acct: str, slot: str, permille: int, dt: int) -> None:
        """Move a share of the collateral in (> 0) or of the slot's margin out (< 0), up to 120%
        (ENG-ISO-01, ENG-ISO-02); INV-03 must hold after either."""
        a = self.ex.accounts[acct]
        pos = a.positions.get((self.symbol, slot))
        base = a.collateral if permille > 0 else (pos.isolated_margin if pos is not None else 0)
        amount = abs(base) * permille // 1000 or (1 if permille >= 0 else -1)
        self.apply(IsolatedMarginTransfer(self.tick_time(dt), acct, self.symbol, amount, slot))

    @rule(
        quotes=st.lists(
            st.tuples(st.integers(-300, 300), st.integers(0, 3 * 10**8), st.integers(0, 120_000)),
            min_size=1,
            max_size=4,
        ),
        dt=st.integers(0, 5_000),
    )
    def index_from_sources(self, quotes: list[tuple[int, int, int]], dt: int) -> None:
        """ENG-IDX-01: the profile's [index] variant computes the index from constituents."""
        t = self.tick_time(dt)
        sources = tuple((self.price(off), weight, max(0, t - age)) for off, weight, age in quotes)
        self.apply(IndexPrice(t, self.symbol, sources=sources))

    @rule(
        buyer=st.sampled_from(ACCOUNTS),
        shift=st.integers(1, len(ACCOUNTS) - 1),
        lots=st.integers(1, 2_000),
        offset=st.integers(-300, 300),
        dt=st.integers(0, 1000),
    )
    def other_trade(self, buyer: str, shift: int, lots: int, offset: int, dt: int) -> None:
        """A trade in the second market (priced by :meth:`other_price`)."""
        seller = ACCOUNTS[(ACCOUNTS.index(buyer) + shift) % len(ACCOUNTS)]
        price = max(1, self.other_base + offset) * self.other_tick
        ev = Fill(self.tick_time(dt), self.other, lots * self.other_lot, price, buyer, seller, "seller")
        self.apply(ev)

    @rule(offset=st.integers(-3_000, 3_000), dt=st.integers(0, 60_000))
    def other_price(self, offset: int, dt: int) -> None:
        t = self.tick_time(dt)
        price = max(1, self.other_base + offset) * self.other_tick
        self.apply(MarkPrice(t, self.other, price) if self.publish_mark else IndexPrice(t, self.other, price))
        if not self.publish_mark:
            self.apply(OraclePrice(t, self.other, price))

    @rule(rate=st.integers(-MAX_RATE, MAX_RATE), dt=st.integers(0, 3_600_000))
    def other_funding(self, rate: int, dt: int) -> None:
        """A hostile replayed rate in the second market: cross collateral below zero."""
        self.apply(FundingSettlement(self.tick_time(dt), self.other, rate))

    @rule(
        acct=st.sampled_from(ACCOUNTS),
        shift=st.integers(1, len(ACCOUNTS) - 1),
        lots=st.integers(1, 200),
        other_lots=st.integers(1, 2_000),
        dt=st.integers(0, 1000),
    )
    def isolated_and_cross(self, acct: str, shift: int, lots: int, other_lots: int, dt: int) -> None:
        """INV-03 setup in one step: an isolated long in the first market next to a cross long
        in the second (a hostile :meth:`other_funding` then puts the cross collateral below 0)."""
        t = self.tick_time(dt)
        seller = ACCOUNTS[(ACCOUNTS.index(acct) + shift) % len(ACCOUNTS)]
        self.apply(SetMarginMode(t, acct, self.symbol, "isolated"))
        self.apply(Fill(t, self.symbol, lots * self.lot, self.price(0), acct, seller, "seller"))
        price = self.other_base * self.other_tick
        self.apply(Fill(t, self.other, other_lots * self.other_lot, price, acct, seller, "seller"))

    @precondition(lambda self: bool(self._in_debt_with_margin()))
    @rule(data=st.data(), dt=st.integers(0, 1000))
    def remove_margin_in_bad_debt(self, data: st.DataObject, dt: int) -> None:
        """INV-03: an account in bad debt takes margin out of an isolated position (the
        record must follow its collateral)."""
        acct, slot, margin = data.draw(st.sampled_from(self._in_debt_with_margin()))
        amount = data.draw(st.integers(1, margin))
        self.apply(IsolatedMarginTransfer(self.tick_time(dt), acct, self.symbol, -amount, slot))

    def _in_debt_with_margin(self) -> list[tuple[str, str, int]]:
        return [
            (aid, slot, p.isolated_margin)
            for aid, a in sorted(self.ex.accounts.items())
            if a.collateral < 0
            for (sym, slot), p in sorted(a.positions.items())
            if sym == self.symbol and p.isolated and p.size != 0 and p.isolated_margin > 0
        ]

    @rule(dt=st.integers(0, 3_600_000))
    def clock_tick(self, dt: int) -> None:
        self.apply(ClockTick(self.tick_time(dt)))

    @rule(change=st.integers(0, 10**6), which=st.integers(0, 5), dt=st.integers(0, 1000))
    def param_change(self, change: int, which: int, dt: int) -> None:
        """ENG-PAR-01: a fee rate, a market's tick or lot (refused with open interest), an
        unknown path or a negative rate (refused)."""
        sym = self.symbol
        path, value = [
            ("fees.taker_rate", f"0.{change % 1000:03d}%"),
            ("fees.maker_rate", f"-0.{change % 100:03d}%"),
            (f"markets.{sym}.tick", format_units(self.tick, self.profile.scales.price_decimals)),
            (f"markets.{sym}.lot", format_units(self.lot, self.profile.scales.size_decimals)),
            ("fees.no_such_rate", "1%"),
            ("fees.taker_rate", "-200%"),
        ][which]
        self.apply(ParamChange(self.tick_time(dt), path, value))

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

    @rule(rate=st.integers(-MAX_RATE, MAX_RATE), dt=st.integers(0, 3_600_000))
    def hostile_funding(self, rate: int, dt: int) -> None:
        """A replayed rate up to +-10,000% per interval: bad debt, INV-03."""
        self.apply(FundingSettlement(self.tick_time(dt), self.symbol, rate))

    @rule(premium=st.integers(-MAX_RATE, MAX_RATE), dt=st.integers(0, 5_000))
    def hostile_sample(self, premium: int, dt: int) -> None:
        self.apply(FundingSample(self.tick_time(dt), self.symbol, premium))

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

    @rule(
        acct=st.sampled_from(ACCOUNTS),
        lots=st.integers(1, 5),
        offset=st.integers(-50, 50),
        dt=st.integers(0, 1000),
    )
    def log_liquidation(self, acct: str, lots: int, offset: int, dt: int) -> None:
        """A production engine's liquidation fill (LIQ-LOG-01): accepted only for a liquidatable
        unit (most are not, and are rejected)."""
        self.apply(Liquidation(self.tick_time(dt), acct, self.symbol, lots * self.lot, self.price(offset)))

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def no_liquidatable_unit_missed(self) -> None:
        """LIQ-PAS-01: with the model liquidating, every liquidatable unit after a step was seen by
        the pass (it carries a liquidation status: it is being liquidated, waits for its next
        slice, or was refused by the fund)."""
        proc = self.ex.profile.liquidation_procedure_model
        if proc is None or proc.source.value != "model":
            return
        marks = self.ex.marks()
        for aid, acct in self.ex.accounts.items():
            if aid.startswith("@"):
                continue
            keys: list[Any] = [None] + [k for k, p in acct.positions.items() if p.isolated and p.size]
            for key in keys:
                try:
                    unit = unit_view(self.ex, acct, key, marks)
                except KeyError:
                    continue  # a position without a price yet
                if triggered(self.ex, unit):
                    assert unit_id(aid, key) in self.ex.liquidations, (aid, key, unit)

    @invariant()
    def state_invariants(self) -> None:
        """INV-01, INV-02, INV-03, INV-04, INV-07, INV-09."""
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
    "INV-01",
    "INV-02",
    "INV-03",
    "INV-04",
    "INV-05",
    "INV-06",
    "INV-07",
    "INV-08",
    "INV-09",
    "ENG-MRK-01",
    "ENG-FSM-01",
    "LIQ-PAS-01",
    "LIQ-LOG-01",
    "LIQ-IDX-01",
)
@pytest.mark.parametrize("mark", ["published", "model"])
@pytest.mark.parametrize("profile", PROFILES)
def test_exchange_machine(profile: str, mark: str) -> None:
    machine = _machine(profile, mark == "published")
    machine.TestCase.settings = SETTINGS
    machine.TestCase().runTest()


@pytest.mark.rule("INV-03", "ENG-ISO-02", "ENG-PAR-01", "ENG-MOD-01", "ENG-IDX-01")
def test_the_machine_emits_every_event_kind() -> None:
    """The machine's rules cover every event kind of the format (runs one short machine)."""
    machine = _machine("binance-usdm", False)
    machine.TestCase.settings = settings(SETTINGS, max_examples=30, stateful_step_count=60)
    machine.TestCase().runTest()
    assert set(EVENT_KINDS) <= EMITTED, sorted(set(EVENT_KINDS) - EMITTED)
