"""State digests: sha256 of a canonical encoding, so two implementations can bisect.

The canonical encoding (rule EVT-DIG-01) is a JSON object with sorted keys and no
whitespace; every integer is written as a JSON *string* of its decimal digits in the model's
integer units (no scaling, no float, no size limit); ``None`` is ``null``; maps are sorted by
key; position keys are ``"SYMBOL/SLOT"``. Flat positions without settings are left out.
Profile parameters are not part of the digest (each implementation has its own
configuration); the time ``t`` is.

Rule: EVT-DIG-01.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from perpspec.state import Exchange
from perpspec.traceability import implements


def _i(x: int | None) -> str | None:
    return None if x is None else str(x)


@implements("EVT-DIG-01")
def canonical(ex: Exchange) -> dict[str, Any]:
    """Rule: EVT-DIG-01. The canonical JSON-ready structure of an exchange state."""
    accounts: dict[str, Any] = {}
    for aid in sorted(ex.accounts):
        a = ex.accounts[aid]
        positions: dict[str, Any] = {}
        for (sym, slot), p in sorted(a.positions.items()):
            if (
                p.size == 0
                and p.entry_value == 0
                and p.isolated_margin == 0
                and p.leverage is None
                and not p.isolated
            ):
                continue
            positions[f"{sym}/{slot}"] = {
                "size": _i(p.size),
                "entry_value": _i(p.entry_value),
                "leverage": _i(p.leverage),
                "isolated": p.isolated,
                "isolated_margin": _i(p.isolated_margin),
            }
        accounts[aid] = {"collateral": _i(a.collateral), "hedge_mode": a.hedge_mode, "positions": positions}
    markets: dict[str, Any] = {}
    for sym in sorted(ex.markets):
        m = ex.markets[sym]
        f = m.funding
        markets[sym] = {
            "index": _i(m.index),
            "mark": _i(m.mark),
            "oracle": _i(m.oracle),
            "last_price": _i(m.last_price),
            "oi_long": _i(m.oi_long),
            "oi_short": _i(m.oi_short),
            "realized_pnl": _i(m.realized_pnl),
            "funding": {
                "samples": [[_i(t), _i(p)] for t, p in f.samples],
                "last_settlement": _i(f.last_settlement),
                "last_rate": _i(f.last_rate),
                "index": _i(f.index),
            },
        }
    out: dict[str, Any] = {
        "t": _i(ex.t),
        "accounts": accounts,
        "markets": markets,
        "insurance": {k: _i(v) for k, v in sorted(ex.insurance.balances.items())},
        "fee_pool": _i(ex.fee_pool),
        "dust": {k: _i(v) for k, v in sorted(ex.dust.items())},
        "net_deposits": _i(ex.net_deposits),
        "bad_debt": {k: _i(v) for k, v in sorted(ex.bad_debt.items())},
    }
    if ex.liquidations:  # only once something was liquidated: earlier digests stay as they were
        out["liquidations"] = {
            k: [_i(s.started), _i(s.last_slice), _i(s.slices)] for k, s in sorted(ex.liquidations.items())
        }
    return out


@implements("EVT-DIG-01")
def canonical_bytes(ex: Exchange) -> bytes:
    """Rule: EVT-DIG-01. The canonical encoding as bytes (sorted keys, compact)."""
    return orjson.dumps(canonical(ex), option=orjson.OPT_SORT_KEYS)


@implements("EVT-DIG-01", "INV-06")
def digest(ex: Exchange) -> str:
    """Rules: EVT-DIG-01, INV-06. Hex sha256 of :func:`canonical_bytes` (same state, same digest)."""
    return hashlib.sha256(canonical_bytes(ex)).hexdigest()
