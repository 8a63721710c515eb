"""Hostile input to every decoder gets a clean exit 2 naming file and line (issue 8, sections 2-3).

Each test here reproduces a failure found on main before the shared strict decoder
(``perpspec.decoding``): a traceback or exit 3, a misleading place or message, a silent
acceptance, or a quadratic reader.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from perpspec import cli
from perpspec.calc import load_snapshot
from perpspec.errors import InputError
from perpspec.oracle.replay import decode_expect
from perpspec.profiles import load_profile
from perpspec.scenario import load_scenario
from typer.testing import CliRunner

BIN = load_profile("binance-usdm")
PROFILE_DIR = Path(__file__).resolve().parents[2] / "model" / "profiles" / "binance-usdm"


def run_cli(*args: str) -> tuple[int, str]:
    """Run ``perpspec ARGS`` in-process: (exit code, output)."""
    os.environ.pop("PERPSPEC_DEBUG", None)
    res = CliRunner().invoke(cli.app, list(args))
    return res.exit_code, res.output


def assert_input_error_at(args: tuple[str, ...], file: Path, line: int | None) -> str:
    code, out = run_cli(*args)
    assert code == 2, out
    assert "Traceback" not in out and "internal error" not in out
    flat = out.replace("\n", "")
    if line is None:
        assert re.search(re.escape(str(file)) + r":\d+", flat), out
    else:
        assert f"{file}:{line}" in flat, out
    return flat


def _deposit(amount: str) -> str:
    return '{"v":1,"kind":"deposit","t":0,"account":"a","amount":' + amount + "}"


# ------------------------------------------------------------------ expect records


@pytest.mark.rule("ORC-RPL-02", "EVT-FMT-01")
def test_expect_record_with_a_duplicate_key_is_refused() -> None:
    """Before: the last value won, so a bad expectation could hide a divergence."""
    raw = b'{"v":1,"kind":"expect","balances":{"a":"1","a":"2"}}'
    with pytest.raises(InputError, match="twice") as info:
        decode_expect(raw, BIN, "log.jsonl", 4)
    assert info.value.place.line == 4 and info.value.place.field == "a"
    top = b'{"v":1,"kind":"expect","reject":null,"reject":"ENG-WDR-01"}'
    with pytest.raises(InputError, match="twice"):
        decode_expect(top, BIN, "log.jsonl", 4)


# ------------------------------------------------------------------ nesting


@pytest.mark.rule("EVT-LIM-01")
@pytest.mark.parametrize("depth", [950, 1000, 1024, 1025, 3000])
def test_deeply_nested_event_line_exits_2(tmp_path: Path, depth: int) -> None:
    """Before: exit 3 (orjson accepts 1,024 levels; a later re-parse or repr recursed)."""
    log = tmp_path / "deep.jsonl"
    log.write_text(_deposit('"1"') + "\n" + _deposit("[" * depth + "]" * depth) + "\n")
    assert_input_error_at(("replay", str(log), "-p", "binance-usdm"), log, 2)


@pytest.mark.rule("EVT-LIM-01", "ACC-SNAP-01")
def test_deeply_nested_snapshot_exits_2(tmp_path: Path) -> None:
    snap = tmp_path / "deep.json"
    snap.write_text('{"collateral": "1",\n "marks": {},\n "positions": ' + "[" * 1000 + "]" * 1000 + "}\n")
    assert_input_error_at(("calc", "margin", "-p", "binance-usdm", "-a", str(snap)), snap, 3)


@pytest.mark.rule("EVT-LIM-01")
def test_deeply_nested_toml_array_exits_2(tmp_path: Path) -> None:
    prof = tmp_path / "deep.toml"
    base = (PROFILE_DIR / "profile.toml").read_text("utf-8")
    prof.write_text(base + "\n[extra]\nx = " + "[" * 3000 + "]" * 3000 + "\n")
    line = base.count("\n") + 3
    assert_input_error_at(("replay", "/dev/null", "-p", str(prof)), prof, line)


# ------------------------------------------------------------------ number size


@pytest.mark.rule("EVT-LIM-01", "EVT-AMT-01")
def test_amount_digits_limit_in_events(tmp_path: Path) -> None:
    """Before: a 4,300-digit deposit printed "replay OK" and then failed (exit 3)."""
    log = tmp_path / "big.jsonl"
    for digits in (65, 4300, 5000):
        log.write_text(_deposit('"' + "9" * digits + '"') + "\n")
        out = assert_input_error_at(("replay", str(log), "-p", "binance-usdm"), log, 1)
        assert "64" in out and "EVT-LIM-01" in out
    log.write_text(_deposit('"' + "9" * 64 + '"') + "\n")
    code, out = run_cli("replay", str(log), "-p", "binance-usdm")
    assert code == 0, out


@pytest.mark.rule("EVT-LIM-01")
@pytest.mark.parametrize("digits", [65, 4301, 5000])
def test_integer_digits_limit_in_events(tmp_path: Path, digits: int) -> None:
    log = tmp_path / "t.jsonl"
    log.write_text('{"v":1,"kind":"clock_tick","t":' + "1" * digits + "}\n")
    out = assert_input_error_at(("replay", str(log), "-p", "binance-usdm"), log, 1)
    assert "64 digits" in out


@pytest.mark.rule("EVT-LIM-01")
def test_integer_above_2_64_is_not_reported_as_a_float(tmp_path: Path) -> None:
    log = tmp_path / "int.jsonl"
    big = str(2**64 + 1)
    log.write_text(_deposit(big) + "\n")
    out = assert_input_error_at(("replay", str(log), "-p", "binance-usdm"), log, 1)
    assert big in out and "float" not in out and "e+19" not in out


@pytest.mark.rule("EVT-LIM-01")
def test_toml_integer_of_5000_digits_exits_2(tmp_path: Path) -> None:
    prof = tmp_path / "big.toml"
    base = (PROFILE_DIR / "profile.toml").read_text("utf-8")
    prof.write_text(base + "\n[extra]\nx = " + "7" * 5000 + "\n")
    assert_input_error_at(("replay", "/dev/null", "-p", str(prof)), prof, base.count("\n") + 3)


@pytest.mark.rule("EVT-LIM-01", "ACC-SNAP-01")
def test_snapshot_leverage_of_5000_digits_exits_2(tmp_path: Path) -> None:
    snap = tmp_path / "lev.json"
    snap.write_text(
        '{"collateral": "1000",\n "marks": {"BTCUSDT": "50000"},\n "positions": [\n'
        '  {"symbol": "BTCUSDT", "size": "1", "entry_price": "50000",\n'
        '   "leverage": "' + "9" * 5000 + '"}]}\n'
    )
    out = assert_input_error_at(("calc", "margin", "-p", "binance-usdm", "-a", str(snap)), snap, 5)
    assert "positions[0].leverage" in out


# ------------------------------------------------------------------ places and messages


@pytest.mark.rule("EVT-LIM-01")
def test_toml_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    """Before: "TOML syntax error: Invalid statement (at line 1, column 1)"."""
    folder = tmp_path / "prof"
    folder.mkdir()
    for f in PROFILE_DIR.glob("*.toml"):
        (folder / f.name).write_text("\ufeff" + f.read_text("utf-8"), "utf-8")
    assert load_profile(folder).markets == BIN.markets


@pytest.mark.rule("ORC-RPL-01")
def test_replay_of_dev_null_is_an_empty_log() -> None:
    """Before: 'no such event log' (the check wanted a regular file)."""
    code, out = run_cli("replay", "/dev/null", "-p", "binance-usdm")
    assert code == 0, out
    assert "0 events" in out


@pytest.mark.rule("SCN-FILE-01")
def test_broken_profile_named_by_a_scenario_is_reported_at_the_profile(tmp_path: Path) -> None:
    """Before: the error pointed at the scenario's ``profile =`` line."""
    folder = tmp_path / "prof"
    folder.mkdir()
    for f in PROFILE_DIR.glob("*.toml"):
        (folder / f.name).write_text(f.read_text("utf-8"), "utf-8")
    fees = folder / "fees.toml"
    if not fees.exists():
        pytest.skip("binance-usdm has no fees.toml")
    fees.write_text(fees.read_text("utf-8") + "\nbogus_key = 1\n")
    scen = tmp_path / "s.toml"
    scen.write_text(
        f'[scenario]\nname = "x"\nprofile = "{folder}"\nmarket = "BTCUSDT"\n'
        "[generator]\nseed = 1\naccounts = 2\nhours = 1\n"
    )
    line = fees.read_text("utf-8").count("\n")
    out = assert_input_error_at(("run", str(scen), "-o", str(tmp_path / "out")), fees, line)
    assert "bogus_key" in out
    missing = tmp_path / "s2.toml"
    missing.write_text(scen.read_text().replace(str(folder), str(tmp_path / "nope")))
    assert_input_error_at(("run", str(missing), "-o", str(tmp_path / "out2")), missing, 3)


@pytest.mark.rule("ACC-SNAP-01", "ACC-ISO-01")
def test_isolated_position_without_isolated_margin_is_refused(tmp_path: Path) -> None:
    """Before: valued with zero margin, a liquidation price on the wrong side of entry."""
    snap = tmp_path / "iso.json"
    snap.write_text(
        '{"collateral": "1000",\n "marks": {"BTCUSDT": "50000"},\n "positions": [\n'
        '  {"symbol": "BTCUSDT", "size": "1", "entry_price": "50000",\n'
        '   "isolated": true}]}\n'
    )
    with pytest.raises(InputError, match="isolated_margin") as info:
        load_snapshot(snap, BIN)
    assert info.value.place.line == 5 and info.value.place.field == "positions[0].isolated"


@pytest.mark.rule("ACC-SNAP-01")
def test_snapshot_reader_is_linear(tmp_path: Path) -> None:
    """Before: quadratic (a 1.8 MB snapshot took 59 s to report an error on line 5)."""
    rows = ",\n".join(
        f'  {{"symbol": "BTCUSDT", "slot": "S{i}", "size": "1", "entry_price": "50000"}}'
        for i in range(30_000)
    )
    snap = tmp_path / "big.json"
    snap.write_text(
        '{"collateral": "1000",\n "marks": {"BTCUSDT": "50000"},\n "positions": [\n'
        + rows
        + '\n ],\n "bogus": 1}\n'
    )
    assert snap.stat().st_size > 2_000_000
    start = time.process_time()
    with pytest.raises(InputError, match="bogus"):
        load_snapshot(snap, BIN)
    assert time.process_time() - start < 10


# ------------------------------------------------------------------ found by the fuzz campaign


@pytest.mark.rule("SCN-FILE-01")
def test_toml_error_at_end_of_document_names_the_last_line(tmp_path: Path) -> None:
    """tomllib says "(at end of document)" without a line; the last line is named."""
    path = tmp_path / "s.toml"
    path.write_text('\'[scenario]\nname = "x"\n')
    with pytest.raises(InputError, match="TOML syntax error") as info:
        load_scenario(path)
    assert info.value.place.line == 2


@pytest.mark.rule("UNT-MKT-01")
def test_profile_key_of_a_table_without_its_own_header_has_a_line(tmp_path: Path) -> None:
    """``[markets.X]`` commented out, ``[markets.X.margin]`` kept: the missing ``contract`` of
    ``markets.X`` is reported at the first line that defines the market; a section named by a
    dotted header (``[1.5fees]`` defines section ``1``) at its header line."""
    folder = tmp_path / "prof"
    folder.mkdir()
    for f in PROFILE_DIR.glob("*.toml"):
        (folder / f.name).write_text(f.read_text("utf-8"), "utf-8")
    markets = folder / "markets.toml"
    text = markets.read_text("utf-8").replace("[markets.BTCUSDT]\n", "# [markets.BTCUSDT]\n", 1)
    markets.write_text(text)
    with pytest.raises(InputError, match="contract") as info:
        load_profile(folder)
    assert info.value.place.line == text.splitlines().index("[markets.BTCUSDT.margin]") + 1
    markets.write_text((PROFILE_DIR / "markets.toml").read_text("utf-8"))
    fees = folder / "fees.toml"
    fees_text = fees.read_text("utf-8").replace("[fees]", "[1.5fees]")
    fees.write_text(fees_text)
    with pytest.raises(InputError, match="unknown section") as info:
        load_profile(folder)
    assert info.value.place.line == fees_text.splitlines().index("[1.5fees]") + 1


@pytest.mark.rule("ACC-SNAP-01", "UNT-DEC-01")
@pytest.mark.parametrize(("where", "line"), [('"collateral": "1000"', 1), ('"entry_price": "50000"', 4)])
def test_snapshot_amount_with_a_percent_sign_is_refused(tmp_path: Path, where: str, line: int) -> None:
    """Before: ``"collateral": "5%"`` was read as 0.05 (only rates may end in ``%``, UNT-DEC-01);
    snapshot amounts now go through the events' amount converter."""
    text = (
        '{"collateral": "1000",\n "marks": {"BTCUSDT": "50000"},\n "positions": [\n'
        '  {"symbol": "BTCUSDT", "size": "1", "entry_price": "50000"}]}\n'
    )
    snap = tmp_path / "pct.json"
    snap.write_text(text.replace(where, where[:-1] + '%"'))
    with pytest.raises(InputError, match="percentage") as info:
        load_snapshot(snap, BIN)
    assert info.value.place.line == line
