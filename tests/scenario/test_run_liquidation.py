"""perpspec run on a profile that liquidates: the summary's liquidation figures and the
liquidations figure (LIQ-OUT-01, INS-OUT-01, LIQ-UNC-01 outputs read by SCN-SUM-01).

The scenario names a profile folder: binance-usdm's files plus ``[liquidation_procedure] model =
"full-close"`` (the model liquidates after every price event, LIQ-PAS-01). Six accounts trade
at 20x with up to 1 BTC a fill; the mark falls 25% in 20 minutes from hour 1, so positions
opened near 60,000 lose more than their margin: accounts are liquidated on the way down.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from perpspec.cli import app
from perpspec.engine import step
from perpspec.events import InsuranceOut, LiquidationOut, UncoveredLossOut
from perpspec.market_runtime import runtime_of
from perpspec.profiles import load_profile
from perpspec.scenario import load_scenario, scenario_events
from perpspec.simulation import run_scenario
from perpspec.state import initial_exchange
from perpspec.units import parse_units
from typer.testing import CliRunner

runner = CliRunner()
PROFILES = Path(__file__).resolve().parents[2] / "model" / "profiles"

SCENARIO = """\
[scenario]
name = "crash-liquidates"
profile = "{profile}"
market = "BTCUSDT"

[generator]
seed = 7
accounts = 6
hours = 3
tick_seconds = 60
trades_per_hour = 120
max_trade = "1"
leverage = 20
deposit = "5000"
crash_hour = 1
crash_minutes = 20
crash_depth = "25%"
rebound_minutes = 30
funding_hours = 1
"""
FILES = ("summary.json", "mark_index.png", "funding_rate.png", "open_interest.png", "liquidations.png")


def scenario(tmp_path: Path, procedure: bool = True) -> Path:
    prof = tmp_path / ("liquidating" if procedure else "plain")
    prof.mkdir(exist_ok=True)
    for f in sorted((PROFILES / "binance-usdm").glob("*.toml")):
        if f.name != "liquidation_procedure.toml":  # the bundled one is replaced (or left out)
            (prof / f.name).write_text(f.read_text())
    if procedure:
        (prof / "liquidation_procedure.toml").write_text('[liquidation_procedure]\nmodel = "full-close"\n')
    path = tmp_path / f"{prof.name}.toml"
    path.write_text(SCENARIO.format(profile=prof))
    return path


def run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["run", *args])
    return res.exit_code, res.output


@pytest.mark.rule("SCN-SUM-01", "LIQ-OUT-01", "INS-OUT-01", "LIQ-UNC-01", "INS-PAY-01")
def test_a_liquidating_run_reports_its_liquidations_and_the_fund(tmp_path: Path) -> None:
    path = scenario(tmp_path)
    code, text = run(str(path), "--out", str(tmp_path / "r"))
    assert code == 0, text
    s = orjson.loads((tmp_path / "r" / "summary.json").read_bytes())
    liq = s["liquidation"]
    assert "liquidations (parts / accounts)" in text and "uncovered loss" in text

    # the same figures recomputed from the model's outputs, event by event
    sc = load_scenario(path)
    profile = load_profile(sc.profile)
    rt = runtime_of(profile)
    ex = initial_exchange(profile)
    parts, accounts, notional, income, payouts, uncovered = 0, set(), 0, 0, 0, 0
    for ev in scenario_events(sc, profile):
        ex, outs = step(ex, ev)
        for o in outs:
            if isinstance(o, LiquidationOut):
                parts += 1
                accounts.add(o.account)
                # full-close (LIQ-PRC-01): each part closes the whole position at the mark
                assert o.position == 0 and o.rule_id == "LIQ-PRC-01"
                notional += rt.markets[o.symbol].notional(abs(o.qty), o.price)
            elif isinstance(o, InsuranceOut):
                income += max(o.delta, 0)
                payouts += max(-o.delta, 0)
            elif isinstance(o, UncoveredLossOut):
                uncovered += o.amount
    money = 8
    assert parts >= 2 and liq["parts"] == parts and liq["accounts"] == len(accounts)
    assert parse_units(liq["notional"], money) == notional > 0
    assert parse_units(liq["insurance_income"], money) == income > 0
    assert parse_units(liq["insurance_payouts"], money) == payouts
    assert parse_units(liq["uncovered_loss"], money) == uncovered
    # the fund starts empty: its end balance is its liquidation income minus its payouts plus
    # the funding dust the binance-usdm funding model sends to it (FND-SUM-01)
    dust = parse_units(s["funding"]["dust_to_sink"], money)
    assert parse_units(liq["insurance_balance"], money) == income - payouts + dust
    # a payout only covers a closed unit's deficit; what it could not cover is a bad-debt record
    assert (uncovered > 0) == (s["bad_debt_records"] > 0)
    # without a procedure the same scenario liquidates nothing
    plain = scenario(tmp_path, procedure=False)
    summary, series = run_scenario(load_scenario(plain), load_profile(load_scenario(plain).profile))
    assert summary.liquidations == 0 and series.liquidation_times == [] and summary.insurance_income == 0


@pytest.mark.rule("SCN-SUM-01", "INV-06")
def test_the_liquidating_report_is_byte_identical(tmp_path: Path) -> None:
    path = scenario(tmp_path)
    assert run(str(path), "--out", str(tmp_path / "a"))[0] == 0
    assert run(str(path), "--out", str(tmp_path / "b"))[0] == 0
    for f in FILES:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    png = (tmp_path / "a" / "liquidations.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and b"tEXt" not in png  # no metadata chunk


@pytest.mark.rule("SCN-SUM-01")
def test_the_series_samples_the_fund_with_the_mark(tmp_path: Path) -> None:
    sc = load_scenario(scenario(tmp_path))
    summary, series = run_scenario(sc, load_profile(sc.profile))
    assert len(series.insurance) == len(series.marks) == len(series.times)
    assert series.insurance[0] == 0 and series.insurance[-1] == summary.insurance_balance
    assert len(series.liquidation_times) == summary.liquidations
    assert all(p is not None for p in series.liquidation_prices)  # one market: all plotted
    # liquidations happen during the crash (from hour 1 to 1h20 of the 3-hour run) or after it
    start = series.times[0]
    assert all(t >= start + 3_600_000 for t in series.liquidation_times)
