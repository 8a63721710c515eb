"""perpspec replay: clean replays, the first divergence, digest files, malformed logs.

Expected balances are hand-computed on binance-usdm (fees from fees.toml: maker 0.02%,
taker 0.05%, ceil): a 0.1 BTC fill at 50,000 has notional 5,000 USDT, so the taker pays
2.5 and the maker 1 USDT. A funding settlement at rate 0.01% (average premium 0.02% is
inside the +-0.05% clamp band around the 0.01% interest) on 5,000 notional moves 0.5 USDT
from the long to the short.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from perpspec.cli import app
from typer.testing import CliRunner

runner = CliRunner()

DEPOSITS = [
    '{"v": 1, "kind": "deposit", "t": 0, "account": "alice", "amount": "10000"}',
    '{"v": 1, "kind": "deposit", "t": 0, "account": "bob", "amount": "10000"}',
    '{"v": 1, "kind": "expect", "balances": {"alice": "10000", "bob": "10000"}}',
    '{"v": 1, "kind": "mark_price", "t": 1000, "symbol": "BTCUSDT", "price": "50000"}',
]
FILL = (
    '{"v": 1, "kind": "fill", "t": 2000, "symbol": "BTCUSDT", "qty": "0.1", "price": "50000",'
    ' "buyer": "alice", "seller": "bob", "maker": "seller"}'
)
FILL_EXPECT = (
    '{"v": 1, "kind": "expect", "t": 2000, "balances": {"alice": "9997.5", "bob": "9999"},'
    ' "positions": {"alice": {"BTCUSDT": "0.1"}, "bob": {"BTCUSDT/BOTH": "-0.1"}},'
    ' "fills": [{"account": "alice", "qty": "0.1", "price": "50000", "fee": "2.5"},'
    ' {"account": "bob", "qty": "-0.1", "fee": "1"}]}'
)
FUNDING = [
    '{"v": 1, "kind": "funding_sample", "t": 3000, "symbol": "BTCUSDT", "premium": "0.02%"}',
    '{"v": 1, "kind": "funding_settlement", "t": 4000, "symbol": "BTCUSDT"}',
    '{"v": 1, "kind": "expect", "funding": {"alice": "-0.5", "bob": "0.5"}, "funding_rate": "0.01%"}',
]
TOO_BIG = (
    '{"v": 1, "kind": "fill", "t": 5000, "symbol": "BTCUSDT", "qty": "100", "price": "50000",'
    ' "buyer": "alice", "seller": "bob", "maker": "seller"}'
)


def write(tmp_path: Path, lines: list[str], name: str = "log.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def replay(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["replay", *args])
    return res.exit_code, res.output


@pytest.mark.rule("ORC-RPL-01", "ORC-RPL-02", "ORC-RPL-03")
def test_clean_replay_exits_0_with_a_summary(tmp_path: Path) -> None:
    log = write(tmp_path, [*DEPOSITS, FILL, FILL_EXPECT, *FUNDING])
    code, out = replay(str(log), "--profile", "binance-usdm")
    assert code == 0, out
    assert "replay OK" in out
    assert "6 events, 3 expect records checked, 0 rejected" in out
    assert "final state digest" in out


@pytest.mark.rule("ORC-RPL-01", "ORC-RPL-03")
def test_wrong_balance_stops_at_its_line_with_a_diff(tmp_path: Path) -> None:
    wrong = FILL_EXPECT.replace('"bob": "9999"', '"bob": "9999.5"')
    log = write(tmp_path, [*DEPOSITS, FILL, wrong, *FUNDING])
    code, out = replay(str(log), "--profile", "binance-usdm")
    assert code == 1
    assert f"DIVERGENCE at {log}:6" in out
    assert "fill event at line 5" in out
    assert "field:    balances.bob" in out
    assert "expected: 9999.5" in out
    assert "got:      9999\n" in out
    assert "FEE-MT-01" in out and "ENG-FILL-01" in out
    # the state of the accounts touched, with the exact entry price
    assert "bob: collateral 9999" in out
    assert "BTCUSDT/BOTH: size -0.1, entry price 50000" in out
    # it stopped: the funding lines after the divergence were not applied
    assert "funding_payment" not in out


@pytest.mark.rule("ORC-RPL-03", "ORC-RPL-02")
def test_wrong_funding_and_fee_are_reported_by_field(tmp_path: Path) -> None:
    bad_fee = FILL_EXPECT.replace('"fee": "1"', '"fee": "1.25"')
    code, out = replay(str(write(tmp_path, [*DEPOSITS, FILL, bad_fee])), "-p", "binance-usdm")
    assert (
        code == 1 and "field:    fills[1].fee" in out and "expected: 1.25" in out and "got:      1\n" in out
    )
    bad_funding = [*FUNDING[:2], FUNDING[2].replace('"alice": "-0.5"', '"alice": "-0.6"')]
    code, out = replay(str(write(tmp_path, [*DEPOSITS, FILL, *bad_funding], "f.jsonl")), "-p", "binance-usdm")
    assert code == 1 and "field:    funding.alice" in out and "got:      -0.5" in out
    assert "FND-SUM-01" in out


@pytest.mark.rule("ORC-RPL-02", "ORC-RPL-03")
def test_rejections_are_expected_or_diverge(tmp_path: Path) -> None:
    ok = '{"v": 1, "kind": "expect", "reject": "ENG-IMR-01", "balances": {"alice": "9997.5"}}'
    code, out = replay(str(write(tmp_path, [*DEPOSITS, FILL, TOO_BIG, ok])), "-p", "binance-usdm")
    assert code == 0, out
    assert "rejected by ENG-IMR-01: 1" in out
    silent = '{"v": 1, "kind": "expect", "balances": {"alice": "9997.5"}}'
    code, out = replay(
        str(write(tmp_path, [*DEPOSITS, FILL, TOO_BIG, silent], "s.jsonl")), "-p", "binance-usdm"
    )
    assert code == 1
    assert "field:    reject" in out and "expected: accepted" in out and "rejected by ENG-IMR-01" in out


@pytest.mark.rule("ORC-RPL-04")
def test_digest_and_output_files_are_byte_identical(tmp_path: Path) -> None:
    log = write(tmp_path, [*DEPOSITS, FILL, FILL_EXPECT, *FUNDING])
    files = []
    for run in ("a", "b"):
        dig, outs = tmp_path / f"{run}.dig", tmp_path / f"{run}.out"
        code, out = replay(str(log), "-p", "binance-usdm", "--digests", str(dig), "--outputs", str(outs))
        assert code == 0, out
        files.append((dig.read_bytes(), outs.read_bytes()))
    assert files[0] == files[1]
    digests = files[0][0].decode().splitlines()
    # one line per event (not per expect record), keyed by the log line
    assert [d.split()[0] for d in digests] == ["1", "2", "4", "5", "7", "8"]
    assert all(len(d.split()[1]) == 64 for d in digests)
    outputs = files[0][1].decode().splitlines()
    assert outputs[0] == (
        '{"account":"alice","balance":"10000","delta":"10000","kind":"balance","reason":"deposit","t":0,"v":1}'
    )
    assert sum('"kind":"funding_payment"' in o for o in outputs) == 2


@pytest.mark.rule("ORC-RPL-01", "EVT-FMT-01")
@pytest.mark.parametrize(
    ("line", "where"),
    [
        ('{"v": 1, "kind": "deposit", "t": 0, "account": "alice", "amount": 5}', "field 'amount'"),
        ('{"v": 1, "kind": "deposit", "t": 0, "account": "alice"', ":2: not valid JSON"),
        ('{"v": 1, "kind": "expect", "balances": {"alice": 1.5}}', "field 'balances.alice'"),
        ('{"v": 1, "kind": "expect", "balance": {}}', "field 'balance'"),
    ],
)
def test_malformed_log_exits_2_with_place_and_no_traceback(tmp_path: Path, line: str, where: str) -> None:
    log = write(tmp_path, [DEPOSITS[0], line])
    code, out = replay(str(log), "-p", "binance-usdm")
    assert code == 2
    assert f"{log}:2" in out and where in out
    assert "Traceback" not in out


@pytest.mark.rule("ORC-RPL-01")
def test_expect_before_any_event_and_missing_file(tmp_path: Path) -> None:
    code, out = replay(str(write(tmp_path, [DEPOSITS[2]])), "-p", "binance-usdm")
    assert code == 2 and "must follow an event" in out
    code, out = replay(str(tmp_path / "nope.jsonl"), "-p", "binance-usdm")
    assert code == 2 and "no such event log" in out


@pytest.mark.rule("ORC-RPL-01", "SCN-FILE-01")
def test_a_scenario_log_replays_with_its_header(tmp_path: Path) -> None:
    head = '{"kind": "scenario", "version": 1, "name": "t", "profile": "binance-usdm", "market": "BTCUSDT"}'
    code, out = replay(str(write(tmp_path, [head, *DEPOSITS, FILL, FILL_EXPECT])), "-p", "binance-usdm")
    assert code == 0, out
    assert "4 events, 2 expect records checked" in out
