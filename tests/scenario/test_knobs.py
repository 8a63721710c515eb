"""Scenario generator knobs (issue 8): out-of-range values are input errors at their line,
the fee knobs are applied, a tick longer than the scenario is refused, and figures survive
prices beyond the float range."""

from __future__ import annotations

from pathlib import Path

import attrs
import orjson
import pytest
from perpspec.cli import app
from perpspec.events import Fill
from perpspec.profiles import load_profile
from perpspec.report import _coords
from perpspec.scenario import generate_events, load_scenario
from perpspec.simulation import run_scenario
from typer.testing import CliRunner

runner = CliRunner()

BASE = """\
[scenario]
name = "knobs"
profile = "binance-usdm"
market = "BTCUSDT"

[generator]
seed = 3
accounts = 4
hours = 1
tick_seconds = 60
trades_per_hour = 60
"""


def scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "k.toml"
    path.write_text(text)
    return path


def run(path: Path) -> tuple[int, str]:
    res = runner.invoke(app, ["run", str(path), "--out", str(path.parent / "r")])
    return res.exit_code, res.output


@pytest.mark.rule("SCN-FILE-01")
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('volatility = "-0.05%"', "between 0% and 100%"),
        ('start_price = "0"', "must be > 0"),
        ('start_price = "-100"', "must be > 0"),
        ('deposit = "-5"', "must be > 0"),
        ('max_trade = "0"', "must be > 0"),
        ('crash_depth = "150%"', "between 0% and 100%"),
        ('taker_fee = "100%"', "below 100%"),
        ("tick_seconds = 100000000", "must not exceed the scenario's length"),
    ],
)
def test_out_of_range_knobs_exit_2_at_their_line(tmp_path: Path, line: str, message: str) -> None:
    key = line.split(" ")[0]
    if key == "tick_seconds":  # replaces line 10
        path, lineno = scenario(tmp_path, BASE.replace("tick_seconds = 60", line)), 10
    else:  # appended as line 12
        path, lineno = scenario(tmp_path, BASE + line + "\n"), 12
    code, text = run(path)
    assert code == 2, text
    assert f"{path}:{lineno}: field 'generator.{key}'" in text, text
    assert message in text and "Traceback" not in text and "internal error" not in text
    assert not (tmp_path / "r" / "summary.json").exists()


@pytest.mark.rule("SCN-FILE-01")
def test_max_trade_below_one_lot_is_refused(tmp_path: Path) -> None:
    text = BASE.replace("binance-usdm", "drift-v2").replace("BTCUSDT", "SOL-PERP")
    path = scenario(tmp_path, text + 'max_trade = "0.001"\n')  # drift-v2 SOL-PERP trades 0.01 lots
    code, out = run(path)
    assert (
        code == 2 and f"{path}:12: field 'generator.max_trade': is below one lot of SOL-PERP (0.01)" in out
    ), out


@pytest.mark.rule("SCN-GEN-01", "EVT-TRD-01", "FEE-MT-01")
def test_fee_knobs_are_applied_by_maker_side(tmp_path: Path) -> None:
    sc = load_scenario(scenario(tmp_path, BASE + 'maker_fee = "-0.01%"\ntaker_fee = "0.1%"\n'))
    profile = load_profile(sc.profile)
    fills = [e for e in generate_events(sc, profile) if isinstance(e, Fill)]
    assert fills
    for f in fills:
        by_side = {f.maker: "maker", ("seller" if f.maker == "buyer" else "buyer"): "taker"}
        rates = {by_side["buyer"]: f.buyer_fee_rate, by_side["seller"]: f.seller_fee_rate}
        assert rates == {"maker": -10_000, "taker": 100_000}
    with_fees, _ = run_scenario(sc, profile)
    assert sc.generator is not None
    plain = attrs.evolve(sc, generator=attrs.evolve(sc.generator, maker_fee=None, taker_fee=None))
    default, _ = run_scenario(plain, profile)
    assert default.trades == with_fees.trades > 0
    assert with_fees.fees != default.fees
    # without the knobs the profile's schedule applies: the fills carry no rate of their own
    assert all(
        e.buyer_fee_rate is None and e.seller_fee_rate is None
        for e in generate_events(plain, profile)
        if isinstance(e, Fill)
    )


@pytest.mark.rule("SCN-GEN-01")
def test_a_one_hour_scenario_emits_a_bounded_number_of_trades(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text(BASE.replace("tick_seconds = 60", "tick_seconds = 3600"))
    sc = load_scenario(path)
    fills = [e for e in generate_events(sc, load_profile(sc.profile)) if isinstance(e, Fill)]
    assert len(fills) <= 2 * 60


@pytest.mark.rule("SCN-SUM-01")
def test_prices_beyond_the_float_range_still_give_figures(tmp_path: Path) -> None:
    """A value a float cannot hold is a gap in the figure (10^400 raised OverflowError); the
    largest price an event may carry (64 digits, EVT-LIM-01) plots, and the summary is exact."""
    assert _coords([10**400, 5 * 10**8, -(10**400)], 8)[1] == 5.0
    assert [v != v for v in _coords([10**400, 5 * 10**8, -(10**400)], 8)] == [True, False, True]
    huge = "9" * 62
    head = {"kind": "scenario", "version": 1, "name": "huge", "profile": "binance-usdm", "market": "BTCUSDT"}
    lines = [
        orjson.dumps(head).decode(),
        '{"v": 1, "kind": "deposit", "t": 0, "account": "a", "amount": "1"}',
        f'{{"v": 1, "kind": "index_price", "t": 1, "symbol": "BTCUSDT", "price": "{huge}"}}',
        f'{{"v": 1, "kind": "mark_price", "t": 1, "symbol": "BTCUSDT", "price": "{huge}"}}',
        '{"v": 1, "kind": "mark_price", "t": 2, "symbol": "BTCUSDT", "price": "100"}',
    ]
    log = tmp_path / "huge.jsonl"
    log.write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, ["run", str(log), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    s = orjson.loads((tmp_path / "r" / "summary.json").read_bytes())
    assert s["mark"]["high"] == huge
    assert (tmp_path / "r" / "mark_index.png").read_bytes()[:4] == b"\x89PNG"
