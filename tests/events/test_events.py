"""Event decoding (strict, line-precise errors), output encoding, the published JSON Schema."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from perpspec.engine import step
from perpspec.errors import InputError
from perpspec.events import (
    EVENT_KINDS,
    BalanceOut,
    BookSnapshot,
    Deposit,
    Fill,
    FundingSample,
    FundingSettlement,
    IndexPrice,
    ParamChange,
    PriceOut,
    decode_line,
    encode_event,
    encode_output,
    read_events,
    read_events_text,
)
from perpspec.oracle.schema import SCHEMA_PATH, event_schema, schema_bytes
from perpspec.profiles import load_profile
from perpspec.state import initial_exchange

BIN = load_profile("binance-usdm")

FILL = (
    '{"v": 1, "kind": "fill", "t": 2000, "symbol": "BTCUSDT", "qty": "0.1", "price": "50000",'
    ' "buyer": "alice", "seller": "bob", "maker": "seller"}'
)


@pytest.mark.rule("EVT-FMT-01", "EVT-AMT-01", "EVT-TRD-01")
def test_decode_fill_with_scales() -> None:
    ev = decode_line(FILL, BIN)
    assert ev == Fill(
        t=2000, symbol="BTCUSDT", qty=100, price=5_000_000, buyer="alice", seller="bob", maker="seller"
    )
    full = decode_line(
        '{"v":1,"kind":"fill","t":1,"symbol":"X","qty":"1","price":"2","buyer":"a","seller":"b","maker":"buyer",'
        '"buyer_slot":"LONG","seller_slot":"SHORT","buyer_fee_rate":"-0.01%","seller_fee_rate":"0.0005",'
        '"buyer_reduce_only":true,"seller_reduce_only":false}',
        BIN,
    )
    assert isinstance(full, Fill)
    assert (full.buyer_fee_rate, full.seller_fee_rate, full.buyer_reduce_only) == (-10_000, 50_000, True)


@pytest.mark.rule("EVT-FMT-01", "EVT-VER-01", "EVT-AMT-01")
@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        (
            '{"v": 1, "kind": "deposit", "t": 0, "account": "a", "amount": "1", "extra": 1}',
            "extra",
            "unknown field",
        ),
        ('{"v": 1, "kind": "deposit", "t": 0, "account": "a"}', "amount", "missing field"),
        ('{"v": 1, "kind": "deposit", "t": 0, "account": "a", "amount": 1.5}', "amount", "decimal string"),
        ('{"v": 1, "kind": "deposit", "t": 0, "account": "a", "amount": "1.000000001"}', "amount", "10^-8"),
        ('{"v": 1, "kind": "deposit", "t": 0, "account": "a", "amount": "abc"}', "amount", "decimal"),
        ('{"v": 1, "kind": "deposit", "t": 0, "account": "a", "amount": "-1"}', "amount", "positive"),
        ('{"v": 1, "kind": "deposit", "t": 0, "account": "a", "amount": "1%"}', "amount", "percentage"),
        ('{"v": 1, "kind": "deposit", "t": "0", "account": "a", "amount": "1"}', "t", "integer"),
        ('{"v": 1, "kind": "deposit", "t": -1, "account": "a", "amount": "1"}', "t", ">= 0"),
        ('{"v": 1, "kind": "deposit", "t": 0, "account": "", "amount": "1"}', "account", "non-empty"),
        ('{"v": 2, "kind": "deposit", "t": 0, "account": "a", "amount": "1"}', "v", "version"),
        ('{"kind": "deposit", "t": 0, "account": "a", "amount": "1"}', "v", "missing"),
        ('{"v": 1, "kind": "teleport", "t": 0}', "kind", "unknown event kind"),
        (
            '{"v": 1, "kind": "set_margin_mode", "t": 0, "account": "a", "symbol": "S", "mode": "x"}',
            "mode",
            "cross",
        ),
        (
            '{"v": 1, "kind": "book_snapshot", "t": 0, "symbol": "S", "bids": [["1"]], "asks": []}',
            "bids[0]",
            "pair",
        ),
        (
            '{"v": 1, "kind": "fill", "t": 0, "symbol": "S", "qty": "0.0001", "price": "1", "buyer": "a",'
            ' "seller": "b", "maker": "seller"}',
            "qty",
            "10^-3",
        ),
        (
            '{"v": 1, "kind": "fill", "t": 0, "symbol": "S", "qty": "1", "price": "1", "buyer": "a",'
            ' "seller": "b", "maker": "seller", "buyer_reduce_only": 1}',
            "buyer_reduce_only",
            "true or false",
        ),
        (
            '{"v": 1, "kind": "param_change", "t": 0, "path": "fees.maker_rate", "value": 0.5}',
            "value",
            "JSON number",
        ),
        ('{"v": 1, "kind": "index_price", "t": 0, "symbol": "S"}', "price", "exactly one of: price, sources"),
        (
            '{"v": 1, "kind": "index_price", "t": 0, "symbol": "S", "price": "1",'
            ' "sources": [{"price": "1", "weight": "1", "updated_at": 0}]}',
            "price",
            "exactly one",
        ),
        ('{"v": 1, "kind": "index_price", "t": 0, "symbol": "S", "sources": []}', "sources", "non-empty"),
        (
            '{"v": 1, "kind": "index_price", "t": 0, "symbol": "S",'
            ' "sources": [{"price": "1", "weight": "1"}]}',
            "sources[0].updated_at",
            "missing",
        ),
        (
            '{"v": 1, "kind": "index_price", "t": 0, "symbol": "S",'
            ' "sources": [{"price": "1", "weight": "-1", "updated_at": 0}]}',
            "sources[0].weight",
            "negative",
        ),
        (
            '{"v": 1, "kind": "index_price", "t": 0, "symbol": "S",'
            ' "sources": [{"price": "0", "weight": "1", "updated_at": 0}]}',
            "sources[0].price",
            "positive",
        ),
        (
            '{"v": 1, "kind": "index_price", "t": 0, "symbol": "S",'
            ' "sources": [{"price": "1", "weight": "1", "updated_at": 0, "src": "x"}]}',
            "sources[0].src",
            "unknown field",
        ),
        (
            '{"v": 1, "kind": "index_price", "t": 0, "symbol": "S",'
            ' "sources": [{"price": "1", "weight": "1", "updated_at": "0"}]}',
            "sources[0].updated_at",
            "time",
        ),
    ],
)
def test_decode_errors_name_file_line_field(tmp_path: Path, line: str, field: str, words: str) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"v": 1, "kind": "clock_tick", "t": 0}\n\n' + line + "\n")
    with pytest.raises(InputError) as info:
        list(read_events(path, BIN))
    err = info.value
    assert err.place.file == str(path) and err.place.line == 3 and err.place.field == field
    assert words in err.message
    assert f"{path}:3: field '{field}'" in str(err)


@pytest.mark.rule("EVT-FMT-01")
def test_not_json_and_not_object() -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        read_events_text('{"v": 1,', BIN, "x.jsonl")
    with pytest.raises(InputError, match="JSON object"):
        read_events_text("[1, 2]", BIN, "x.jsonl")
    with pytest.raises(InputError, match="cannot read"):
        list(read_events("/nonexistent/perpspec.jsonl", BIN))


@pytest.mark.rule("EVT-FMT-01", "EVT-AMT-01")
def test_event_round_trip() -> None:
    events = [
        Deposit(0, "a", 123_456_789),
        decode_line(FILL, BIN),
        BookSnapshot(3, "BTCUSDT", ((5_000_000, 1500),), ((5_000_010, 20),)),
        FundingSettlement(4, "BTCUSDT"),
        FundingSettlement(5, "BTCUSDT", -1234),
        ParamChange(6, "fees.maker_rate", "0.01%"),
        FundingSample(7, "BTCUSDT"),
        FundingSample(8, "BTCUSDT", -25_000),
        IndexPrice(9, "BTCUSDT", 5_000_000),
        IndexPrice(10, "BTCUSDT", sources=((5_000_000, 50_000_000, 9), (5_000_100, 0, 10))),
    ]
    for ev in events:
        line = encode_event(ev, BIN)
        assert decode_line(line, BIN) == ev
    assert encode_event(Deposit(0, "a", 123_456_789), BIN) == (
        b'{"account":"a","amount":"1.23456789","kind":"deposit","t":0,"v":1}'
    )
    assert decode_line('{"v":1,"kind":"funding_sample","t":1,"symbol":"X"}', BIN) == FundingSample(1, "X")
    assert encode_event(events[-1], BIN) == (
        b'{"kind":"index_price","sources":[{"price":"50000","updated_at":9,"weight":"0.5"},'
        b'{"price":"50001","updated_at":10,"weight":"0"}],"symbol":"BTCUSDT","t":10,"v":1}'
    )


@pytest.mark.rule("EVT-OUT-01", "INV-06")
def test_output_encoding_is_exact_and_deterministic() -> None:
    out = BalanceOut(7, "a", -150_000_000, 2_000_000_001, "withdraw")
    line = encode_output(out, BIN)
    assert line == (
        b'{"account":"a","balance":"20.00000001","delta":"-1.5","kind":"balance","reason":"withdraw","t":7,"v":1}'
    )
    ex = initial_exchange(BIN)
    ex, _outs = step(ex, decode_line('{"v":1,"kind":"deposit","t":0,"account":"a","amount":"10"}', BIN))
    ex, outs2 = step(ex, decode_line('{"v":1,"kind":"withdraw","t":1,"account":"a","amount":"11"}', BIN))
    rej = orjson.loads(encode_output(outs2[0], BIN))
    assert rej["kind"] == "reject" and rej["rule_id"] == "ENG-WDR-01"
    assert encode_output(PriceOut(1, "BTCUSDT", 5_000_000, None, None, None), BIN) == (
        b'{"index":"50000","kind":"price","mark":null,"mark_source":null,"oracle":null,'
        b'"symbol":"BTCUSDT","t":1,"v":1}'
    )


@pytest.mark.rule("EVT-FMT-01", "EVT-VER-01")
def test_published_schema_is_up_to_date() -> None:
    """The committed schema file equals the generated one (regenerate: python -m perpspec.oracle.schema)."""
    assert SCHEMA_PATH.read_bytes() == schema_bytes()
    schema = event_schema()
    kinds = {v["title"] for v in schema["oneOf"]}
    assert kinds == set(EVENT_KINDS)
    fill = next(v for v in schema["oneOf"] if v["title"] == "fill")
    assert fill["additionalProperties"] is False
    assert set(fill["required"]) == {"v", "kind", "t", "symbol", "qty", "price", "buyer", "seller", "maker"}
    index = next(v for v in schema["oneOf"] if v["title"] == "index_price")
    assert index["oneOf"] == [{"required": ["price"]}, {"required": ["sources"]}]
    sample = next(v for v in schema["oneOf"] if v["title"] == "funding_sample")
    assert "premium" in sample["properties"] and "premium" not in sample["required"]


DEP = '{"v":1,"kind":"deposit","t":1,"account":"a","amount":%s}'


@pytest.mark.rule("EVT-FMT-01")
@pytest.mark.parametrize("kind", ["[]", "{}", "1", "null", "true"])
def test_kind_of_wrong_type_is_an_input_error(kind: str) -> None:
    """Review finding: ``{"v":1,"kind":[]}`` raised TypeError (unhashable) from decode_line."""
    with pytest.raises(InputError) as info:
        decode_line('{"v":1,"kind":' + kind + ',"t":1}', BIN, "f.jsonl", 3)
    assert info.value.place.field == "kind" and info.value.place.line == 3


@pytest.mark.rule("EVT-AMT-01", "UNT-DEC-01")
@pytest.mark.parametrize(
    "amount",
    [
        '"\\u0661"',
        '"\\uff11\\uff12"',
        '" 1"',
        '"1 "',
        '"1_0"',
        '"1_000.5"',
        '"1.\\u0665"',
        '"\\u0661.5"',
        '"1."',
    ],
)
def test_event_amounts_are_plain_ascii_decimals(amount: str) -> None:
    """Review finding: Arabic-Indic and full-width digits, surrounding spaces and ``_``
    separators were accepted in event amounts. Events take plain ASCII decimals only."""
    with pytest.raises(InputError) as info:
        decode_line(DEP % amount, BIN, "f.jsonl", 4)
    assert info.value.place.field == "amount"
    assert decode_line(DEP % '"10.5"', BIN) == Deposit(1, "a", 1_050_000_000)


@pytest.mark.rule("EVT-FMT-01")
@pytest.mark.parametrize(
    "line",
    [
        '{"v":1,"kind":"clock_tick","t":1,"t":2}',
        '{"v":1,"kind":"clock_tick","t" :1,"t":2}',
        '{"v":1,"kind":"deposit","t":1,"account":"a:b","amount":"1","amount":"2"}',
        '{"v":1,"kind":"index_price","t":5,"symbol":"BTCUSDT","sources":'
        '[{"price":"1","weight":"1","updated_at":0,"price":"2"}]}',
    ],
)
def test_duplicate_keys_are_input_errors(line: str) -> None:
    """A JSON object with a key twice is refused (orjson would keep the last one silently)."""
    with pytest.raises(InputError, match="twice") as info:
        decode_line(line, BIN, "f.jsonl", 9)
    assert info.value.place.line == 9
    # a colon inside a string value is not a key
    assert decode_line('{"v":1,"kind":"deposit","t":1,"account":"a:b","amount":"1"}', BIN).account == "a:b"
