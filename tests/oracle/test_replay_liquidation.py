"""perpspec replay with liquidations: ``liquidations`` and ``insurance`` in expect records.

Profile: binance-usdm (price 2, size 3, money 8 decimals; taker 0.05%, maker 0.02%, fees ceil;
BTCUSDT first bracket MMR 0.40%, trigger equity <= MM) plus ``[liquidation_procedure] model =
"full-close"``, written as a profile folder so the CLI reads it (``--profile DIR``).

Hand computation. ``a`` deposits 1,000 USDT and buys 1 BTC at 20,000 as taker: fee
20,000 * 0.05% = 10, collateral 990. At mark 19,050: equity 990 - 950 = 40 <= MM
19,050 * 0.40% = 76.20, liquidatable. A log liquidation of the whole 1 BTC at 19,040: realized
PnL (19,040 - 20,000) * 1 = -960; the bankruptcy settlement (LIQ-SET-02) leaves ``a`` with
C - g = 40 - 40 = 0 and the fund gets dE_exec + g = (-960 + 950) + 40 = 30, so the fund ``*``
holds 30 and ``a`` 0. Under ``source = "model"`` the mark event itself closes the position at
the mark 19,050: dE_exec = 0, the fund gets 40.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from perpspec.cli import app
from typer.testing import CliRunner

runner = CliRunner()

PROFILES = Path(__file__).resolve().parents[2] / "model" / "profiles"

OPEN = [
    '{"v": 1, "kind": "deposit", "t": 0, "account": "a", "amount": "1000"}',
    '{"v": 1, "kind": "deposit", "t": 0, "account": "b", "amount": "100000"}',
    '{"v": 1, "kind": "mark_price", "t": 1, "symbol": "BTCUSDT", "price": "20000"}',
    '{"v": 1, "kind": "fill", "t": 2, "symbol": "BTCUSDT", "qty": "1", "price": "20000",'
    ' "buyer": "a", "seller": "b", "maker": "seller"}',
    '{"v": 1, "kind": "expect", "balances": {"a": "990"}}',
]
DROP = '{"v": 1, "kind": "mark_price", "t": 3, "symbol": "BTCUSDT", "price": "19050"}'
NONE_YET = '{"v": 1, "kind": "expect", "liquidations": []}'
LIQ = (
    '{"v": 1, "kind": "liquidation", "t": 4, "account": "a", "symbol": "BTCUSDT", "qty": "1",'
    ' "price": "19040"}'
)
PART = '{"liquidations": [{"account": "a", "symbol": "BTCUSDT", "qty": "-1", "price": "1"}]}'
LIQ_EXPECT = (
    '{"v": 1, "kind": "expect", "balances": {"a": "0"}, "positions": {"a": {"BTCUSDT": "0"}},'
    ' "liquidations": [{"account": "a", "symbol": "BTCUSDT", "qty": "-1", "price": "19040",'
    ' "fee": "0", "insurance_delta": "30", "deficit": "0", "counterparty": "@liquidator"}],'
    ' "insurance": {"*": "30"}}'
)


def profile_dir(tmp_path: Path, source: str) -> Path:
    """binance-usdm's files plus a full-close procedure with the given ``source``."""
    d = tmp_path / f"binance-usdm-{source}"
    d.mkdir()
    for f in sorted((PROFILES / "binance-usdm").glob("*.toml")):
        (d / f.name).write_text(f.read_text())
    (d / "liquidation_procedure.toml").write_text(
        f'[liquidation_procedure]\nmodel = "full-close"\nsource = "{source}"\n'
    )
    return d


def replay(tmp_path: Path, lines: list[str], source: str = "log") -> tuple[int, str, Path]:
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, ["replay", str(log), "--profile", str(profile_dir(tmp_path, source))])
    return res.exit_code, res.output, log


@pytest.mark.rule("ORC-RPL-02", "ORC-RPL-03", "LIQ-LOG-01", "LIQ-OUT-01")
def test_a_log_liquidation_with_matching_expects_replays_ok(tmp_path: Path) -> None:
    code, out, _ = replay(tmp_path, [*OPEN, DROP, NONE_YET, LIQ, LIQ_EXPECT])
    assert code == 0, out
    assert "6 events, 3 expect records checked, 0 rejected" in out
    assert "  liquidation: 1" in out


@pytest.mark.rule("ORC-RPL-03", "LIQ-SET-02", "LIQ-OUT-01")
def test_a_wrong_insurance_delta_is_a_divergence_naming_the_slice_rule(tmp_path: Path) -> None:
    wrong = LIQ_EXPECT.replace('"insurance_delta": "30"', '"insurance_delta": "31"')
    code, out, log = replay(tmp_path, [*OPEN, DROP, NONE_YET, LIQ, wrong])
    assert code == 1, out
    assert f"DIVERGENCE at {log}:9 (expect record for the liquidation event at line 8)" in out
    assert "field:    liquidations[0].insurance_delta" in out
    assert "expected: 31\n" in out and "got:      30\n" in out
    # the rule that sized the slice (full-close, LIQ-PRC-01) and the output rule
    assert "rules:    LIQ-PRC-01, LIQ-OUT-01, ORC-RPL-03" in out
    assert "a: collateral 0" in out and "@liquidator: collateral" in out
    assert '"kind":"insurance"' in out


@pytest.mark.rule("ORC-RPL-03", "INS-OUT-01")
def test_a_wrong_fund_balance_and_a_wrong_counterparty_diverge(tmp_path: Path) -> None:
    wrong = LIQ_EXPECT.replace('"insurance": {"*": "30"}', '"insurance": {"*": "40"}')
    code, out, _ = replay(tmp_path, [*OPEN, DROP, NONE_YET, LIQ, wrong])
    assert code == 1, out
    assert "field:    insurance.*" in out and "expected: 40\n" in out and "got:      30\n" in out
    assert "INS-OUT-01" in out
    other = LIQ_EXPECT.replace('"counterparty": "@liquidator"', '"counterparty": "@fund"')
    sub = tmp_path / "cp"
    sub.mkdir()
    code, out, _ = replay(sub, [*OPEN, DROP, NONE_YET, LIQ, other])
    assert code == 1, out
    assert "field:    liquidations[0].counterparty" in out
    assert "expected: @fund\n" in out and "got:      @liquidator\n" in out


@pytest.mark.rule("ORC-RPL-03", "LIQ-PAS-01", "LIQ-SRC-01")
def test_the_model_liquidates_on_the_mark_and_the_count_is_compared(tmp_path: Path) -> None:
    # source = "model": the mark event at 19,050 closes the position at the mark; the fund gets 40
    done = (
        '{"v": 1, "kind": "expect", "balances": {"a": "0"}, "liquidations": [{"account": "a",'
        ' "symbol": "BTCUSDT", "qty": "-1", "price": "19050", "realized_pnl": "-950",'
        ' "insurance_delta": "40", "position": "0"}], "insurance": {"*": "40"}}'
    )
    code, out, _ = replay(tmp_path, [*OPEN, DROP, done], "model")
    assert code == 0, out
    sub = tmp_path / "none"
    sub.mkdir()
    code, out, log = replay(sub, [*OPEN, DROP, NONE_YET], "model")
    assert code == 1, out
    assert f"DIVERGENCE at {log}:7 (expect record for the mark_price event at line 6)" in out
    assert "field:    liquidations" in out
    assert "expected: 0 liquidation part(s)" in out and "got:      1 liquidation part(s)" in out
    assert "LIQ-PAS-01" in out and "LIQ-PRC-01" in out


@pytest.mark.rule("ORC-RPL-02", "EVT-AMT-01")
@pytest.mark.parametrize(
    ("record", "where", "message"),
    [
        (
            '{"liquidations": [{"account": "a", "symbol": "BTCUSDT", "qty": "-1"}]}',
            "liquidations[0].price",
            "needs 'price'",
        ),
        (
            '{"liquidations": [{"account": "a", "symbol": "BTCUSDT", "qty": -1, "price": "1"}]}',
            "liquidations[0].qty",
            "string",
        ),
        (
            PART.replace("}]", ', "bonus": "1"}]'),
            "liquidations[0].bonus",
            "unknown field",
        ),
        (
            '{"liquidations": [{"account": 7, "symbol": "BTCUSDT", "qty": "-1", "price": "1"}]}',
            "liquidations[0].account",
            "non-empty string",
        ),
        ('{"liquidations": {"a": "1"}}', "liquidations", "expected a list"),
        (
            PART.replace("}]", ', "fee": "0.000000001"}]'),
            "liquidations[0].fee",
            "10^-8",
        ),
        ('{"insurance": ["*"]}', "insurance", "keyed by fund"),
        ('{"insurance": {"*": 30}}', "insurance.*", "string"),
    ],
)
def test_malformed_liquidation_expects_exit_2_with_file_line_field(
    tmp_path: Path, record: str, where: str, message: str
) -> None:
    line = '{"v": 1, "kind": "expect", ' + record[1:]
    code, out, log = replay(tmp_path, [OPEN[0], line])
    assert code == 2, out
    flat = out.replace("\n", "")
    assert f"{log}:2" in flat and f"field '{where}'" in flat and message in flat, out
    assert "Traceback" not in out
