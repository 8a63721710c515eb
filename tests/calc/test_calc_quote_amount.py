"""ACC-SNAP-01: a linear position stated as Drift stores it (``size`` = base amount,
``quote_amount`` = the signed quote balance), since ``-quote/base`` rarely terminates as a
decimal entry price."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from perpspec.calc import load_snapshot, margin_report
from perpspec.errors import InputError
from perpspec.profiles import load_profile

DRIFT = load_profile("drift-v2")


def _snap(tmp_path: Path, position: dict[str, str]) -> Path:
    path = tmp_path / "acct.json"
    doc = {"collateral": "1000", "marks": {"SOL-PERP": "123.456789"}, "positions": [position]}
    path.write_text(json.dumps(doc, indent=1))
    return path


@pytest.mark.rule("ACC-SNAP-01", "ACC-COL-01", "PNL-LIN-02")
def test_quote_amount_states_the_entry_exactly(tmp_path: Path) -> None:
    """Long 3 SOL for 100 USDC (entry 33.333... does not terminate): E = 100 * 10^9 units of
    1e-15 quote; uPnL at 123.456789 = 370.370367 - 100 = 270.370367; the initial collateral
    counts $100 of it (Drift's program: TC 1,100 initial / 1,270.370367 maintenance)."""
    path = _snap(tmp_path, {"symbol": "SOL-PERP", "size": "3", "quote_amount": "-100"})
    snap = load_snapshot(path, DRIFT)
    pos = snap.account.positions[("SOL-PERP", "BOTH")]
    assert (pos.size, pos.entry_value) == (3 * 10**9, 100 * 10**15)
    cross = margin_report(snap, DRIFT)["cross"]
    assert cross["equity"] == "1270.370367"
    assert cross["initial_collateral"] == "1100"
    assert cross["maintenance_collateral"] == "1270.370367"
    # a short that received 200.000001: uPnL = trunc(-123.456789) + 200.000001
    path = _snap(tmp_path, {"symbol": "SOL-PERP", "size": "-1", "quote_amount": "200.000001"})
    assert (
        margin_report(load_snapshot(path, DRIFT), DRIFT)["cross"]["maintenance_collateral"] == "1076.543212"
    )


@pytest.mark.rule("ACC-SNAP-01")
@pytest.mark.parametrize(
    ("position", "field", "message"),
    [
        ({"symbol": "SOL-PERP", "size": "1"}, "positions[0].entry_price", "exactly one of"),
        (
            {"symbol": "SOL-PERP", "size": "1", "entry_price": "10", "quote_amount": "-10"},
            "positions[0].entry_price",
            "exactly one of",
        ),
        (
            {"symbol": "SOL-PERP", "size": "1", "quote_amount": "-0.0000001"},
            "positions[0].quote_amount",
            "money",
        ),
    ],
)
def test_quote_amount_errors(tmp_path: Path, position: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        load_snapshot(_snap(tmp_path, position), DRIFT)
    assert err.value.place.field == field


@pytest.mark.rule("ACC-SNAP-01")
def test_quote_amount_is_linear_only(tmp_path: Path) -> None:
    prof = load_profile("bitmex-xbtusd")
    sym = sorted(prof.markets)[0]
    path = tmp_path / "inv.json"
    doc = {
        "collateral": "1",
        "marks": {sym: "30000"},
        "positions": [{"symbol": sym, "size": "100", "quote_amount": "-1"}],
    }
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="linear") as err:
        load_snapshot(path, prof)
    assert err.value.place.field == "positions[0].quote_amount"
