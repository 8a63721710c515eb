"""perpspec run: scenario files, the deterministic generator, the report folder and its figures."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from perpspec.cli import app
from perpspec.profiles import load_profile
from perpspec.scenario import (
    bundled_scenarios,
    generate_events,
    knobs,
    load_scenario,
    price_path,
    write_log,
)
from perpspec.units import parse_units
from typer.testing import CliRunner

runner = CliRunner()

SMALL = """\
[scenario]
name = "small"
profile = "binance-usdm"
market = "BTCUSDT"

[generator]
seed = 7
accounts = 6
hours = 3
tick_seconds = 60
trades_per_hour = 120
max_trade = "0.2"
deposit = "5000"
crash_hour = 1
crash_minutes = 20
rebound_minutes = 30
funding_hours = 1
"""


def small(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(text)
    return path


def run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["run", *args])
    return res.exit_code, res.output


@pytest.mark.rule("SCN-SUM-01", "SCN-FILE-01", "FND-SUM-01")
def test_run_writes_the_report_and_consistent_numbers(tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, text = run(str(small(tmp_path)), "--out", str(out))
    assert code == 0, text
    assert sorted(p.name for p in out.iterdir()) == [
        "funding_rate.png",
        "liquidations.png",
        "mark_index.png",
        "open_interest.png",
        "summary.json",
    ]
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    s = orjson.loads((out / "summary.json").read_bytes())
    money = s["units"]["money_decimals"]
    assert s["accounts"] == 6
    assert s["funding"]["settlements"] == 3  # every hour of a 3-hour day
    assert s["trades"] > 0
    paid, received = parse_units(s["funding"]["paid"], money), parse_units(s["funding"]["received"], money)
    dust = parse_units(s["funding"]["dust_to_sink"], money)
    # funding conservation: what longs (or shorts) paid is what the others received plus dust
    assert paid > 0
    assert paid == received + dust
    assert dust >= 0
    assert parse_units(s["funding"]["dust"], money) == dust
    # fees: each side pays ceil(N * r), maker 0.02% and taker 0.05% of the same notional
    volume, fees = parse_units(s["volume"], money), parse_units(s["fees"], money)
    assert volume * 7 // 10_000 <= fees <= volume * 7 // 10_000 + 2 * s["trades"]
    assert "trades" in text and "funding paid" in text


@pytest.mark.rule("SCN-SUM-01", "INV-06")
def test_same_scenario_same_bytes(tmp_path: Path) -> None:
    path = small(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(str(path), "--out", str(a))[0] == 0
    assert run(str(path), "--out", str(b))[0] == 0
    for f in ("summary.json", "mark_index.png", "funding_rate.png", "open_interest.png", "liquidations.png"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


@pytest.mark.rule("SCN-GEN-01")
def test_generator_is_deterministic_integer_and_on_tick(tmp_path: Path) -> None:
    sc = load_scenario(small(tmp_path))
    profile = load_profile(sc.profile)
    assert sc.generator is not None
    k = knobs(sc.generator, profile, sc.market, sc.source)
    path = list(price_path(sc.generator, k))
    assert len(path) == 3 * 60 + 1
    assert all(type(p.mark) is int and p.mark % k.tick == 0 and p.index % k.tick == 0 for p in path)
    # the crash: the index at the end of the crash (1h20) is well below the start
    assert path[80].index < path[60].index * 95 // 100
    first = list(generate_events(sc, profile))
    assert first == list(generate_events(sc, profile))
    other = load_scenario(small(tmp_path, SMALL.replace("seed = 7", "seed = 8")))
    assert list(generate_events(other, profile)) != first
    times = [e.t for e in first]
    assert times == sorted(times)
    kinds = {type(e).kind for e in first}
    assert kinds == {
        "deposit",
        "set_leverage",
        "index_price",
        "mark_price",
        "funding_sample",
        "fill",
        "funding_settlement",
    }


@pytest.mark.rule("SCN-FILE-01", "SCN-GEN-01")
def test_a_jsonl_scenario_gives_the_same_run(tmp_path: Path) -> None:
    sc = load_scenario(small(tmp_path))
    log = tmp_path / "small.jsonl"
    n = write_log(sc, load_profile(sc.profile), log)
    assert n == len(log.read_bytes().splitlines()) - 1
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(str(small(tmp_path)), "--out", str(a))[0] == 0
    code, text = run(str(log), "--out", str(b))
    assert code == 0, text
    assert (a / "summary.json").read_bytes() == (b / "summary.json").read_bytes()


@pytest.mark.rule("SCN-FILE-01")
@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (('deposit = "5000"', "deposit = 5000.5"), ":13: field 'generator.deposit'", "decimal string"),
        (("seed = 7", "seed = 7\nspeed = 3"), ":8: field 'generator.speed'", "unknown key"),
        (("accounts = 6", "accounts = 1"), ":8: field 'generator.accounts'", "at least 2"),
        (('market = "BTCUSDT"', 'market = "DOGEUSDT"'), ":4: field 'scenario.market'", "no market"),
        (('profile = "binance-usdm"', 'profile = "nope"'), ":3: field 'scenario.profile'", "no such profile"),
        (('deposit = "5000"', 'deposit = "5000.000000001"'), "field 'generator.deposit'", "10^-8"),
    ],
)
def test_bad_scenario_files_exit_2_naming_the_place(
    tmp_path: Path, change: tuple[str, str], where: str, message: str
) -> None:
    path = small(tmp_path, SMALL.replace(*change))
    code, text = run(str(path), "--out", str(tmp_path / "r"))
    assert code == 2, text
    assert str(path) in text and where in text and message in text
    assert "Traceback" not in text


@pytest.mark.rule("SCN-FILE-01")
def test_bundled_scenario_and_missing_file(tmp_path: Path) -> None:
    assert "btc-volatile-day" in bundled_scenarios()
    sc = load_scenario(None)
    assert (sc.profile, sc.market) == ("binance-usdm", "BTCUSDT")
    assert sc.generator is not None and sc.generator.accounts == 300 and sc.generator.hours == 24
    code, text = run(str(tmp_path / "nope.toml"))
    assert code == 2 and "no such scenario" in text
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"v": 1, "kind": "deposit", "t": 0, "account": "a", "amount": "1"}\n')
    code, text = run(str(bad), "--out", str(tmp_path / "r"))
    assert code == 2 and f"{bad}:1: field 'kind'" in text
