"""Running a scenario (``perpspec run``): its events through the exchange model, the summary,
the progress bar and the report folder.

The scenario file formats and the generator are :mod:`perpspec.scenario`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from perpspec.errors import InputError
from perpspec.numeric import div_floor
from perpspec.scenario import Scenario, load_scenario, scenario_events
from perpspec.traceability import implements


@implements("SCN-SUM-01")
def run_scenario(sc: Scenario, profile: Any, progress: bool = False) -> tuple[Any, Any]:
    """Rule: SCN-SUM-01. Run a scenario through :func:`perpspec.engine.step`; (Summary, Series).

    Counts accepted fills (trades), their notional (volume, one side) and size, fees of both
    sides, funding payments split into paid (debits) and received (credits), funding dust,
    bad-debt records and rejections by rule; samples mark, index and open interest at every
    mark tick and the funding rate the profile's model predicts from the samples so far at
    every funding sample (plus the settled rate at each settlement). With ``progress`` a
    terminal shows a progress bar (generator ticks or bytes of the log, events/s, ETA).

    Liquidations (a profile with a ``[liquidation_procedure]``, LIQ-OUT-01): the parts
    (``liquidation`` outputs), the accounts liquidated, the notional closed (PNL-NOT-01 at
    each part's price), the insurance funds' income (positive ``insurance`` deltas) and
    payouts (negative ones), the uncovered losses (``uncovered_loss`` records, LIQ-UNC-01) and
    the funds' total balance, sampled with the mark; each part's time, notional and market.
    """
    from perpspec.engine import step
    from perpspec.events import (
        BadDebtOut,
        FeeOut,
        Fill,
        FundingPayment,
        FundingRateOut,
        FundingSample,
        InsuranceOut,
        LiquidationOut,
        MarkPrice,
        Reject,
        UncoveredLossOut,
    )
    from perpspec.market_runtime import runtime_of
    from perpspec.oracle.digest import digest
    from perpspec.report import Series, Summary
    from perpspec.state import initial_exchange

    if sc.market not in profile.markets:
        raise InputError(
            sc.place("scenario.market"),
            f"profile {profile.name} has no market {sc.market!r}; it has: {', '.join(profile.markets)}",
        )
    ex = initial_exchange(profile)
    model = profile.funding_model
    series = Series()
    predicted_t: list[int] = []
    predicted: list[int] = []
    rejections: dict[str, int] = {}
    events = trades = volume = base_volume = fees = 0
    settlements = payments = paid = received = dust = bad_debts = 0
    marks: list[int] = []
    runtime = runtime_of(profile)
    liq = _LiquidationTally()
    with _progress(sc, progress) as (bar, on_bytes, position):
        for ev in scenario_events(sc, profile, on_bytes):
            ex, outs = step(ex, ev)
            events += 1
            if not events & 4095:
                bar.update(position(ev), events)
            rejected = False
            first_fee = True
            for o in outs:
                kind = type(o)
                if kind is Reject:
                    rejected = True
                    rejections[o.rule_id] = rejections.get(o.rule_id, 0) + 1
                elif kind is FeeOut:
                    fees += o.amount
                    if first_fee:
                        volume += o.notional
                        first_fee = False
                elif kind is FundingPayment:
                    payments += 1
                    if o.amount < 0:
                        paid -= o.amount
                    else:
                        received += o.amount
                elif kind is FundingRateOut:
                    settlements += 1
                    dust += o.dust
                    series.funding_times.append(o.t)
                    series.funding_rates.append(o.rate)
                elif kind is BadDebtOut:
                    bad_debts += 1
                elif kind is LiquidationOut:
                    n = runtime.markets[o.symbol].notional(abs(o.qty), o.price)
                    liq.part(o.account, n)
                    series.liquidation_times.append(o.t)
                    series.liquidation_notional.append(n)
                    series.liquidation_prices.append(o.price if o.symbol == sc.market else None)
                elif kind is InsuranceOut:
                    liq.fund(o.delta)
                elif kind is UncoveredLossOut:
                    liq.uncovered(o.amount)
            if rejected:
                continue
            evk = type(ev)
            if evk is Fill:
                trades += 1
                base_volume += ev.qty
            elif evk is MarkPrice and ev.symbol == sc.market:
                m = ex.markets[sc.market]
                series.times.append(ev.t)
                series.marks.append(ev.price)
                series.indexes.append(m.index if m.index is not None else ev.price)
                series.open_interest.append(m.oi_long)
                series.insurance.append(sum(ex.insurance.balances.values()))
                marks.append(ev.price)
            elif evk is FundingSample and model is not None and ev.symbol == sc.market:
                samples = [p for _, p in ex.markets[sc.market].funding.samples]
                rate = model.predicted_rate(samples)
                if rate is not None:
                    predicted_t.append(ev.t)
                    predicted.append(int(rate))
    if predicted:
        series.predicted_times = predicted_t
        series.predicted_rates = predicted
    m = ex.markets[sc.market]
    summary = Summary(
        scenario=sc.name,
        profile=profile.name,
        market=sc.market,
        settlement=profile.meta.settlement,
        money_decimals=profile.scales.money_decimals,
        size_decimals=profile.scales.size_decimals,
        price_decimals=profile.scales.price_decimals,
        accounts=len(ex.accounts),
        events=events,
        trades=trades,
        volume=volume,
        base_volume=base_volume,
        fees=fees,
        funding_settlements=settlements,
        funding_payments=payments,
        funding_paid=paid,
        funding_received=received,
        funding_dust_out=dust,
        bad_debts=bad_debts,
        rejections=rejections,
        final_digest=digest(ex),
        open_interest=m.oi_long,
        first_mark=marks[0] if marks else 0,
        last_mark=marks[-1] if marks else 0,
        low_mark=min(marks) if marks else 0,
        high_mark=max(marks) if marks else 0,
        liquidations=liq.parts,
        liquidated_accounts=len(liq.accounts),
        liquidated_notional=liq.notional,
        insurance_income=liq.income,
        insurance_payouts=liq.payouts,
        insurance_balance=sum(ex.insurance.balances.values()),
        uncovered_losses=liq.uncovered_records,
        uncovered_loss=liq.uncovered_amount,
    )
    return summary, series


class _LiquidationTally:
    """Rule: SCN-SUM-01. The liquidation figures of a run, summed as the outputs come."""

    def __init__(self) -> None:
        self.parts = self.notional = self.income = self.payouts = 0
        self.uncovered_records = self.uncovered_amount = 0
        self.accounts: set[str] = set()

    def part(self, account: str, notional: int) -> None:
        """One ``liquidation`` output: its account and notional (money units)."""
        self.parts += 1
        self.notional += notional
        self.accounts.add(account)

    def fund(self, delta: int) -> None:
        """One ``insurance`` output: income (> 0) or payout (< 0)."""
        if delta > 0:
            self.income += delta
        else:
            self.payouts -= delta

    def uncovered(self, amount: int) -> None:
        """One ``uncovered_loss`` output."""
        self.uncovered_records += 1
        self.uncovered_amount += amount


@contextmanager
def _progress(
    sc: Scenario, wanted: bool
) -> Iterator[tuple[Any, Callable[[int], None] | None, Callable[[Any], int]]]:
    """The progress bar of a run: generator ticks done of the spec's ticks, or bytes of the
    log read; yields (bar, the log's byte callback, the position of an event)."""
    from perpspec.terminal import Bar, progress_bar

    if not wanted:
        yield Bar(None, None), None, lambda ev: 0
        return
    spec = sc.generator
    if spec is not None:
        tick_ms = spec.tick_seconds * 1000
        total = div_floor(spec.hours * 3600, spec.tick_seconds) + 1
        with progress_bar(f"run {sc.name}", total, "events") as bar:
            yield bar, None, lambda ev: div_floor(ev.t - spec.start_time, tick_ms)
        return
    assert sc.log is not None
    done = [0]

    def on_bytes(n: int) -> None:
        done[0] = n

    with progress_bar(f"run {sc.name}", sc.log.stat().st_size, "events", in_bytes=True) as bar:
        yield bar, on_bytes, lambda ev: done[0]


def run_scenario_cli(ref: str | None, out: Path) -> int:
    """The ``perpspec run`` command: run, print the summary, write the report folder."""
    from perpspec.profiles import bundled_names, load_profile
    from perpspec.report import prepare_folder, print_summary, unplottable, write_report
    from perpspec.terminal import err_console, out_console

    sc = load_scenario(ref)
    if sc.profile not in bundled_names() and not Path(sc.profile).exists():
        raise InputError(
            sc.place("scenario.profile"),
            f"no such profile {sc.profile!r}: neither a bundled profile ({', '.join(bundled_names())}) "
            "nor a file",
        )
    profile = load_profile(sc.profile)  # a broken profile is reported at its own file and line
    prepare_folder(out)  # a bad --out fails before the run, not after it
    summary, series = run_scenario(sc, profile, progress=True)
    write_report(out, summary, series)
    print_summary(out_console(), summary, out)
    lost = unplottable(series.marks, summary.price_decimals) + unplottable(
        series.indexes, summary.price_decimals
    )
    if lost:
        err_console().print(
            f"note: {lost} price point(s) beyond 10^300 have no float coordinate and are left out "
            "of mark_index.png; summary.json has their exact values"
        )
    return 0
