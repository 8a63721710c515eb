"""An inverse snapshot whose entry value rounds to 0 coins (issue 8): an entry price of 1e12
on one contract cost 0 satoshi, and every calculation divided by it (ZeroDivisionError, exit
3). The snapshot is refused at the entry price's line (exit 2); the model's entry_price says
why instead of dividing by zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from perpspec.cli import app
from perpspec.position import Position, accounting_of, entry_price
from perpspec.profiles import load_profile
from typer.testing import CliRunner


def _snapshot(tmp_path: Path, symbol: str) -> Path:
    snap = {
        "id": "x",
        "collateral": "1",
        "marks": {symbol: "1000000000000"},
        "positions": [{"symbol": symbol, "size": "1", "entry_price": "1000000000000", "leverage": "10"}],
    }
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(snap, indent=1))
    return path


@pytest.mark.rule("ACC-SNAP-01", "PNL-INV-01")
@pytest.mark.parametrize(("profile", "symbol"), [("bitmex-xbtusd", "XBTUSD"), ("binance-coinm", "BTCUSD")])
@pytest.mark.parametrize("what", ["margin", "liquidation-price", "bankruptcy-price"])
def test_zero_coin_entry_value_is_an_input_error(
    tmp_path: Path, profile: str, symbol: str, what: str
) -> None:
    path = _snapshot(tmp_path, symbol)
    res = CliRunner().invoke(app, ["calc", what, "-p", profile, "-a", str(path)])
    assert res.exit_code == 2, res.output
    assert f"{path}:" in res.output and "positions[0].entry_price" in res.output
    assert "rounds to 0 coin units" in res.output and "internal error" not in res.output


@pytest.mark.rule("PNL-AVG-01", "PNL-AVG-02")
@pytest.mark.parametrize("profile", ["bitmex-xbtusd", "binance-coinm"])
def test_entry_price_of_a_zero_entry_value_is_a_value_error(profile: str) -> None:
    p = load_profile(profile)
    sym = sorted(p.markets)[0]
    with pytest.raises(ValueError, match="rounds to 0 coin units"):
        entry_price(Position(1, 0), p.market(sym), p.scales, accounting_of(p))
