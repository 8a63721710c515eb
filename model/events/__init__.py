"""Events in, outputs out: the exchange's input log and its typed results, as JSON Lines.

An event log is a JSON Lines file, one event per line, each an object with ``"v": 1``, a
``"kind"`` tag, an integer time ``"t"`` in milliseconds and the kind's fields (spec/events.md).
Every amount is a decimal *string* converted with the profile's scales at decode time
(rule UNT-DEC-01): a price with ``price_decimals``, a size with ``size_decimals``, money with
``money_decimals``, a rate in ``10^-8``. Decoding is strict: an unknown field, a missing
field, a wrong type or an amount that does not fit the scale is an
:class:`perpspec.errors.InputError` naming file, line and field.

Each event and output kind is defined once, as an attrs class whose field annotations are
the wire types (:mod:`perpspec.events.fields`); the decoder (:mod:`perpspec.events.wire`),
the encoder (:mod:`perpspec.events.encode`) and the JSON Schema
(:mod:`perpspec.oracle.schema`) are derived from those classes.

Rules: EVT-FMT-01, EVT-VER-01, EVT-AMT-01, EVT-TRD-01, EVT-OUT-01, EVT-LIM-01.
"""

from __future__ import annotations

from perpspec.events.encode import encode_event, encode_output, event_to_obj, output_to_obj
from perpspec.events.fields import SLOTS, VERSION, Wire, WireField, wire_fields
from perpspec.events.kinds import (
    EVENT_KINDS,
    EVENT_TYPES,
    ONE_OF,
    BookSnapshot,
    ClockTick,
    Deposit,
    Event,
    Fill,
    FundingSample,
    FundingSettlement,
    IndexPrice,
    IsolatedMarginTransfer,
    Liquidation,
    MarkPrice,
    OraclePrice,
    ParamChange,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
    Withdraw,
)
from perpspec.events.outputs import (
    BadDebtOut,
    BalanceOut,
    FeeOut,
    FillOut,
    FundingPayment,
    FundingRateOut,
    InsuranceOut,
    LiquidationOut,
    Output,
    ParamOut,
    PriceOut,
    Reject,
    SettingOut,
    UncoveredLossOut,
)
from perpspec.events.wire import decode_line, decode_line_strict, decode_obj, read_events, read_events_text

__all__ = [
    "EVENT_KINDS",
    "EVENT_TYPES",
    "ONE_OF",
    "SLOTS",
    "VERSION",
    "BadDebtOut",
    "BalanceOut",
    "BookSnapshot",
    "ClockTick",
    "Deposit",
    "Event",
    "FeeOut",
    "Fill",
    "FillOut",
    "FundingPayment",
    "FundingRateOut",
    "FundingSample",
    "FundingSettlement",
    "IndexPrice",
    "InsuranceOut",
    "IsolatedMarginTransfer",
    "Liquidation",
    "LiquidationOut",
    "MarkPrice",
    "OraclePrice",
    "Output",
    "ParamChange",
    "ParamOut",
    "PriceOut",
    "Reject",
    "SetLeverage",
    "SetMarginMode",
    "SetPositionMode",
    "SettingOut",
    "UncoveredLossOut",
    "Wire",
    "WireField",
    "Withdraw",
    "decode_line",
    "decode_line_strict",
    "decode_obj",
    "encode_event",
    "encode_output",
    "event_to_obj",
    "output_to_obj",
    "read_events",
    "read_events_text",
    "wire_fields",
]
