"""``perpspec calc``: the bundled example snapshots, JSON output, and malformed snapshots
(exit 2, file + line + field, no traceback). Rule ACC-SNAP-01 (spec/accounts.md)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from perpspec.calc import load_snapshot
from perpspec.cli import app
from perpspec.errors import InputError
from perpspec.profiles import load_profile
from typer.testing import CliRunner

runner = CliRunner()


def _example(name: str) -> str:
    return str(resources.files("perpspec") / "examples" / name)


def _calc(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["calc", *args])
    out = result.output
    try:
        out += result.stderr
    except (ValueError, AttributeError):  # older click mixes stderr into output
        pass
    return result.exit_code, out


def _json(*args: str) -> dict:
    code, out = _calc(*args, "--json")
    assert code == 0, out
    return json.loads(out)


@pytest.mark.rule("ACC-SNAP-01", "ACC-CRS-01", "PNL-LIN-01")
def test_margin_table_bin_lp_01() -> None:
    """BIN-LP-01 through the CLI (table): MM 71,200.811444 / 356,512.508122, UPNL -56,354.56848 /
    -448,192.88514, equity 1,030,895.55638, cross MM 427,713.319566, and the rules used."""
    code, out = _calc(
        "margin", "--profile", "binance-usdm", "--account", _example("binance-usdm-bin-lp-01.json")
    )
    assert code == 0, out
    for figure in (
        "71200.811444",
        "356512.508122",
        "-56354.56848",
        "-448192.88514",
        "3500032.45776",
        "1030895.55638",
        "427713.319566",
        "ACC-CRS-01",
        "MRG-BRK-01",
    ):
        assert figure in out


@pytest.mark.rule("ACC-SNAP-01", "ACC-CRS-01", "ACC-LIQ-01", "ACC-WDR-01")
def test_margin_json_bin_lp_01_sorted_and_deterministic() -> None:
    """JSON output: sorted keys, exact decimal strings, byte-identical on a rerun."""
    args = ("margin", "-p", "binance-usdm", "-a", _example("binance-usdm-bin-lp-01.json"), "--json")
    code, first = _calc(*args)
    assert code == 0
    assert _calc(*args)[1] == first
    d = json.loads(first)
    assert list(d) == sorted(d)
    btc, eth = d["positions"]
    assert (btc["symbol"], btc["maintenance_margin"], btc["upnl"]) == (
        "BTCUSDT-2021",
        "71200.811444",
        "-56354.56848",
    )
    assert (eth["maintenance_margin"], eth["upnl"], eth["notional"]) == (
        "356512.508122",
        "-448192.88514",
        "4918775.08122",
    )
    assert btc["entry_price"] == "32481.98"
    assert d["cross"]["equity"] == "1030895.55638"
    assert d["cross"]["maintenance_margin"] == "427713.319566"
    assert d["cross"]["liquidatable"] is False and d["cross"]["trigger"] == "equity-le-mm"
    assert d["rules"] == sorted(d["rules"]) and "ACC-SNAP-01" in d["rules"]


@pytest.mark.rule("ACC-SNAP-01")
def test_liquidation_price_bin_lp_01() -> None:
    """BIN-LP-01: BTCUSDT cross LP exact 26,316.893265 (published 26,316.89), computed by the
    liquidation module from the snapshot."""
    d = _json("liquidation-price", "-p", "binance-usdm", "-a", _example("binance-usdm-bin-lp-01.json"))
    btc = d["positions"][0]
    assert btc["symbol"] == "BTCUSDT-2021"
    assert btc["exact"].startswith("26316.893264")
    # Published at Binance's 2-decimal price precision (price_step 0.01), half-up.
    assert btc["rounded"] == "26316.89"
    assert any(r.startswith("LIQ-") for r in d["rules"])


@pytest.mark.rule("ACC-SNAP-01", "ACC-ISO-01", "ACC-HDG-01")
def test_bybit_isolated_hedge_example() -> None:
    """BYB-LP-01 through a hedge-mode isolated snapshot: IM 400, MM 100 each; LP 19,700 (long)
    and 23,300 (short with 3,000 extra margin); bankruptcy 19,600 / 23,400."""
    path = _example("bybit-linear-isolated.json")
    m = _json("margin", "-p", "bybit-linear", "-a", path)
    assert [(r["slot"], r["initial_margin"], r["maintenance_margin"]) for r in m["positions"]] == [
        ("LONG", "400", "100"),
        ("SHORT", "400", "100"),
    ]
    assert m["cross"]["equity"] == "10000" and m["cross"]["maintenance_margin"] == "0"
    assert "ACC-HDG-01" in m["rules"] and "ACC-ISO-01" in m["rules"]
    lp = _json("liquidation-price", "-p", "bybit-linear", "-a", path)
    assert [r["exact"] for r in lp["positions"]] == ["19700", "23300"]
    bp = _json("bankruptcy-price", "-p", "bybit-linear", "-a", path)
    assert [r["exact"] for r in bp["positions"]] == ["19600", "23400"]


@pytest.mark.rule("ACC-SNAP-01", "ACC-WDR-01")
def test_hyperliquid_transfer_margin_example() -> None:
    """Hyperliquid cross: equity 25,000 + 400 = 25,400; transfer requirement
    max(IM 6,000, 10% x 110,000) = 11,000, so 14,400 may be withdrawn."""
    d = _json("margin", "-p", "hyperliquid", "-a", _example("hyperliquid-cross.json"))
    assert d["cross"]["equity"] == "25400"
    assert d["cross"]["available_for_withdrawal"] == "14400"


@pytest.mark.rule("ACC-SNAP-01", "PNL-INV-01", "PNL-AVG-02")
def test_bitmex_inverse_example() -> None:
    """BMX-PNL-01 as a snapshot: long 1,000 XBTUSD @ 1,000 at mark 1,250: uPnL 0.2 XBT."""
    d = _json("margin", "-p", "bitmex-xbtusd", "-a", _example("bitmex-xbtusd-bmx-pnl-01.json"))
    pos = d["positions"][0]
    assert (pos["upnl"], pos["notional"], pos["entry_price"]) == ("0.2", "0.8", "1000")
    assert d["cross"]["equity"] == "1.2"
    assert "PNL-AVG-02" in d["rules"] and "PNL-INV-01" in d["rules"]


GOOD = """{
  "collateral": "1000",
  "marks": {"BTCUSDT": "20000"},
  "positions": [
    {"symbol": "BTCUSDT", "size": "1", "entry_price": "20000"}
  ]
}
"""


@pytest.mark.rule("ACC-SNAP-01", "ACC-HDG-01")
@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (GOOD.replace('"1000"', "1000"), 2, "collateral", "decimal string"),
        (GOOD.replace('"1000"', "1000.5"), 2, "collateral", "decimal string"),
        (
            GOOD.replace('"size": "1"', '"size": "1", "colour": "red"'),
            5,
            "positions[0].colour",
            "unknown field",
        ),
        (GOOD.replace('"size": "1", ', ""), 5, "positions[0].size", "missing required field"),
        (GOOD.replace('"collateral": "1000",\n', ""), 1, "collateral", "missing required field"),
        (GOOD.replace('"size": "1"', '"size": "0.0001"'), 5, "positions[0].size", "10^-3"),
        (GOOD.replace('"size": "1"', '"size": "0"'), 5, "positions[0].size", "non-zero"),
        (GOOD.replace('"symbol": "BTCUSDT"', '"symbol": "DOGE"'), 5, "positions[0].symbol", "unknown symbol"),
        (GOOD.replace('{"BTCUSDT": "20000"}', "{}"), 5, "positions[0].symbol", "no mark price"),
        (GOOD.replace('"20000"}', '"-1"}'), 3, "marks.BTCUSDT", "must be positive"),
        (GOOD.replace('"size": "1"', '"size": "1", "slot": "LONG"'), 5, "positions[0].slot", "one-way"),
        (
            GOOD.replace('"size": "1"', '"size": "1", "leverage": "2.5"'),
            5,
            "positions[0].leverage",
            "whole leverage",
        ),
        (
            GOOD.replace('"size": "1"', '"size": "1", "isolated": "yes"'),
            5,
            "positions[0].isolated",
            "true or false",
        ),
        (
            GOOD.replace('"size": "1"', '"size": "1", "isolated_margin": "5"'),
            5,
            "positions[0].isolated_margin",
            "only an isolated",
        ),
        (GOOD.replace('"positions": [', '"positions": {').replace("  ]", "  }"), None, None, "JSON syntax"),
        (
            GOOD.replace("[\n", '[\n    {"symbol": "BTCUSDT", "size": "1", "entry_price": "20000"},\n'),
            6,
            "positions[1].slot",
            "second",
        ),
        (
            GOOD.replace('"collateral": "1000",', '"collateral": "1000", "collateral": "2",'),
            2,
            None,
            "duplicate key",
        ),
        ("[1, 2]", 1, None, "expected an object"),
        (GOOD.replace('"marks"', '"id": 7, "marks"'), 3, "id", "expected a string"),
    ],
)
def test_malformed_snapshots(
    tmp_path: Path, text: str, line: int | None, field: str | None, message: str
) -> None:
    """Every malformed snapshot exits 2 with file, line and field, never a traceback."""
    path = tmp_path / "acct.json"
    path.write_text(text)
    code, out = _calc("margin", "--profile", "bybit-linear", "--account", str(path))
    assert code == 2, out
    flat = " ".join(out.split())
    assert "acct.json" in flat and message in flat
    if line is not None:
        assert f"acct.json:{line}" in flat
    if field is not None:
        assert f"field '{field}'" in flat
    assert "Traceback" not in out
    with pytest.raises(InputError) as err:
        load_snapshot(path, load_profile("bybit-linear"))
    if field is not None:
        assert err.value.place.field == field


@pytest.mark.rule("ACC-SNAP-01")
def test_bad_command_and_missing_file(tmp_path: Path) -> None:
    """An unknown calculation and a missing file are input errors too (exit 2)."""
    code, out = _calc("margin", "-p", "bybit-linear", "-a", str(tmp_path / "nope.json"))
    assert code == 2 and "cannot read" in out and "Traceback" not in out
    code, out = _calc("funding", "-p", "bybit-linear", "-a", _example("bybit-linear-isolated.json"))
    assert code == 2 and "unknown calculation" in out
    code, out = _calc("margin", "-p", "no-such-venue", "-a", _example("bybit-linear-isolated.json"))
    assert code == 2 and "no such profile" in out


@pytest.mark.rule("ACC-SNAP-01", "PNL-LIN-01")
def test_average_entry_price_with_more_decimals_than_the_tick(tmp_path: Path) -> None:
    """A linear entry price may be an average finer than the tick if size x price fits the
    10^-(s+p) unit; otherwise it is refused."""
    prof = load_profile("bybit-linear")
    ok = GOOD.replace('"size": "1", "entry_price": "20000"', '"size": "0.002", "entry_price": "20000.005"')
    path = tmp_path / "a.json"
    path.write_text(ok)
    snap = load_snapshot(path, prof)
    assert snap.account.positions[("BTCUSDT", "BOTH")].entry_value == 2 * 2000000 + 1
    path.write_text(ok.replace("20000.005", "20000.0005"))
    with pytest.raises(InputError, match="not a whole number"):
        load_snapshot(path, prof)
