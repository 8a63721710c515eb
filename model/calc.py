"""``perpspec calc``: margin, liquidation price and bankruptcy price of an account snapshot.

The snapshot is a JSON file (format: rule ACC-SNAP-01 in spec/accounts.md). It is decoded
strictly: every number is a decimal string converted with the profile's scales, and every
problem is an :class:`~perpspec.errors.InputError` naming the file, the line of the key and
the field path. The output is a rich table or JSON (orjson, sorted keys) of exact decimal
strings plus the rule IDs used.

Rules: ACC-SNAP-01, ACC-CRS-01, ACC-ISO-01, ACC-HDG-01, ACC-WDR-01, ACC-LIQ-01.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import orjson
from perpspec.account import (
    Account,
    available_for_withdrawal,
    collateral,
    equity,
    isolated_equity,
    isolated_liquidatable,
    liquidatable,
    position_requirement,
    position_upnl,
    requirement,
    slot_errors,
)
from perpspec.decoding import FieldError, JsonNumber, decimal_amount, describe, read_json_document
from perpspec.errors import InputError, Place
from perpspec.numeric import Rounding
from perpspec.position import Position, accounting_of, entry_price, entry_value_at, notional
from perpspec.profile import ContractKind, Profile
from perpspec.profiles import load_profile
from perpspec.traceability import implements, rules_of
from perpspec.units import MAX_DIGITS, format_fraction, format_units, parse_fraction

WHATS = ("margin", "liquidation-price", "bankruptcy-price")


# --------------------------------------------------------------------------------------
# Snapshot decoding (ACC-SNAP-01)
# --------------------------------------------------------------------------------------


@attrs.frozen
class Snapshot:
    """A decoded account snapshot: the account, the marks and OI notionals (profile units)."""

    account: Account
    marks: Mapping[str, int]
    oi_notional: Mapping[str, int]


_UNIT_OF = {"a price": "price", "a size": "size", "an amount of money": "money"}
_TOP = {"id", "collateral", "hedge_mode", "marks", "oi_notional", "positions"}
_POS = {"symbol", "slot", "size", "entry_price", "quote_amount", "leverage", "isolated", "isolated_margin"}


@implements("ACC-SNAP-01")
def load_snapshot(path: Path | str, profile: Profile, text: str | None = None) -> Snapshot:
    """Rules: ACC-SNAP-01, ACC-HDG-01. Decode an account snapshot file strictly."""
    fname = str(path)
    if text is None:
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(Place(fname), f"cannot read the account snapshot: {exc}") from None
    doc = read_json_document(text, fname)
    data = doc.data

    def fail(field: str, message: str) -> InputError:
        return InputError(doc.place(field), message)

    def obj(v: Any, field: str, allowed: set[str], required: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise fail(field, f"expected an object, got {describe(v)}")
        extra = sorted(set(v) - allowed)
        if extra:
            sub = f"{field}.{extra[0]}" if field else extra[0]
            raise fail(sub, f"unknown field {extra[0]!r}; expected one of: {', '.join(sorted(allowed))}")
        for key in required:
            if key not in v:
                raise fail(f"{field}.{key}" if field else key, "missing required field")
        return v

    def string(v: Any, field: str) -> str:
        if not isinstance(v, str):
            raise fail(field, f"expected a string, got {describe(v)}")
        return v

    def boolean(v: Any, field: str) -> bool:
        if not isinstance(v, bool):
            raise fail(field, f"expected true or false, got {describe(v)}")
        return v

    def units(v: Any, field: str, decimals: int, what: str, positive: bool = False) -> int:
        try:
            out = decimal_amount(v, _UNIT_OF[what], decimals, field)  # as in events (EVT-AMT-01)
        except FieldError as exc:
            raise doc.error(exc) from None
        if positive and out <= 0:
            raise fail(field, f"{what} must be positive, got {describe(v)}")
        return out

    scales = profile.scales
    acc = accounting_of(profile)
    top = obj(data, "", _TOP, ("collateral", "marks", "positions"))
    acct_id = string(top.get("id", "snapshot"), "id")
    collateral = units(top["collateral"], "collateral", scales.money_decimals, "an amount of money")
    hedge = boolean(top.get("hedge_mode", False), "hedge_mode")

    def symbol_map(name: str, decimals: int, what: str, positive: bool) -> dict[str, int]:
        raw = top.get(name, {})
        if not isinstance(raw, dict):
            raise fail(name, f"expected an object of symbol -> {what}, got {describe(raw)}")
        out = {}
        for sym, v in raw.items():
            if sym not in profile.markets:
                raise fail(
                    f"{name}.{sym}",
                    f"unknown symbol; profile {profile.name} has: {', '.join(profile.markets)}",
                )
            out[sym] = units(v, f"{name}.{sym}", decimals, what, positive)
        return out

    marks = symbol_map("marks", scales.price_decimals, "a price", True)
    oi = symbol_map("oi_notional", scales.money_decimals, "an amount of money", False)
    raw_positions = top["positions"]
    if not isinstance(raw_positions, list):
        raise fail("positions", f"expected a list of positions, got {describe(raw_positions)}")
    positions: dict[tuple[str, str], Position] = {}
    where: dict[tuple[str, str], str] = {}
    for i, raw in enumerate(raw_positions):
        at = f"positions[{i}]"
        p = obj(raw, at, _POS, ("symbol", "size"))
        sym = string(p["symbol"], f"{at}.symbol")
        if sym not in profile.markets:
            raise fail(
                f"{at}.symbol",
                f"unknown symbol {sym!r}; profile {profile.name} has: {', '.join(profile.markets)}",
            )
        if sym not in marks:
            raise fail(f"{at}.symbol", f"no mark price for {sym} in 'marks'")
        market = profile.market(sym)
        size = units(p["size"], f"{at}.size", scales.size_decimals, "a size")
        if size == 0:
            raise fail(f"{at}.size", "a position size must be non-zero (leave flat positions out)")
        default_slot = ("LONG" if size > 0 else "SHORT") if hedge else "BOTH"
        slot = string(p.get("slot", default_slot), f"{at}.slot")
        if ("entry_price" in p) == ("quote_amount" in p):
            raise fail(f"{at}.entry_price", "give exactly one of entry_price and quote_amount")
        if "quote_amount" in p:
            entry_value = _quote_entry_value(
                p["quote_amount"], market, f"{at}.quote_amount", fail, units, scales
            )
        else:
            entry_value = _entry_value(
                p["entry_price"], size, market, f"{at}.entry_price", fail, units, scales, acc
            )
        leverage = None
        if "leverage" in p:
            lev_s = (
                string(p["leverage"], f"{at}.leverage") if not isinstance(p["leverage"], JsonNumber) else None
            )
            if lev_s is not None and len(lev_s) > MAX_DIGITS:
                raise fail(f"{at}.leverage", f"more than {MAX_DIGITS} digits (rule EVT-LIM-01)")
            if lev_s is None or not re.fullmatch(r"[1-9][0-9]*", lev_s):
                raise fail(
                    f"{at}.leverage",
                    f'expected a whole leverage as a string, e.g. "20", got {describe(p["leverage"])}',
                )
            leverage = int(lev_s)
        isolated = boolean(p.get("isolated", False), f"{at}.isolated")
        if isolated and "isolated_margin" not in p:
            raise fail(
                f"{at}.isolated",
                "an isolated position needs its 'isolated_margin' (the margin the position holds, "
                'e.g. "250"; write "0" for none): without it the position would be valued with no '
                "margin and its liquidation price would sit on the wrong side of entry (ACC-SNAP-01)",
            )
        iso_margin = 0
        if "isolated_margin" in p:
            iso_margin = units(
                p["isolated_margin"], f"{at}.isolated_margin", scales.money_decimals, "an amount of money"
            )
            if not isolated and iso_margin:
                raise fail(f"{at}.isolated_margin", "only an isolated position holds isolated margin")
            if iso_margin < 0:
                raise fail(f"{at}.isolated_margin", "isolated margin cannot be negative")
        key = (sym, slot)
        if key in positions:
            raise fail(f"{at}.slot", f"a second position in {sym}/{slot} (first at {where[key]})")
        positions[key] = Position(size, entry_value, leverage, isolated, iso_margin)
        where[key] = at
    account = Account(id=acct_id, collateral=collateral, positions=positions, hedge_mode=hedge)
    for key, msg in slot_errors(account):
        raise fail(f"{where[key]}.slot", msg)
    return Snapshot(account=account, marks=marks, oi_notional=oi)


def _entry_value(
    v: Any,
    size: int,
    market: Any,
    field: str,
    fail: Callable[[str, str], InputError],
    units: Any,
    scales: Any,
    acc: Any,
) -> int:
    """Rules: PNL-LIN-01, PNL-INV-01. The entry value of ``size`` at the snapshot's entry price.

    Linear: ``size * EP`` exactly (EP may have more decimals than the tick, e.g. an average,
    as long as the product fits the ``10^-(s+p)`` unit). Inverse: the fill cost ``F(size, EP)``
    with EP on the profile's price scale.
    """
    if market.contract is ContractKind.INVERSE:
        value = entry_value_at(
            size, units(v, field, scales.price_decimals, "a price", True), market, scales, acc
        )
        if value == 0:  # PNL-INV-01 rounds the coin cost to 0: no finite entry price, no valuation
            raise fail(
                field,
                f"at entry price {v} the position's entry value rounds to 0 coin units "
                f"(10^-{scales.money_decimals}); give a larger size or a lower entry price",
            )
        return value
    if not isinstance(v, str):
        raise fail(field, f"expected a price as a decimal string, got {describe(v)}")
    if "%" in v:
        raise fail(field, f"a percentage is only allowed for rates, got {describe(v)} for a price")
    try:
        ep = parse_fraction(v)
    except ValueError as exc:
        raise fail(field, f"a price: {exc}") from None
    if ep <= 0:
        raise fail(field, f"a price must be positive, got {v}")
    value = ep * size * 10**scales.price_decimals
    if value.denominator != 1:
        raise fail(
            field,
            "size x entry price is not a whole number of "
            f"10^-{scales.size_decimals + scales.price_decimals} quote",
        )
    return value.numerator


def _quote_entry_value(
    v: Any, market: Any, field: str, fail: Callable[[str, str], InputError], units: Any, scales: Any
) -> int:
    """Rule: ACC-SNAP-01. A linear position stated as Drift stores it: ``quote_amount`` is the
    signed quote balance of the position (money units; negative for a long bought), so the
    entry value is :math:`E = -quote \\cdot 10^{s+p-m}` exactly (PNL-LIN-01)."""
    if market.contract is ContractKind.INVERSE:
        raise fail(field, "quote_amount states a linear position; give entry_price for an inverse one")
    quote = units(v, field, scales.money_decimals, "an amount of money")
    shift = scales.size_decimals + scales.price_decimals - scales.money_decimals
    if shift >= 0:
        return -quote * 10**shift
    if quote % 10**-shift:
        raise fail(
            field,
            f"quote_amount is not a whole number of 10^-{scales.size_decimals + scales.price_decimals} quote",
        )
    return -quote // 10**-shift


# --------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------


def _rules_of(obj: Any) -> list[str]:
    return sorted(rules_of(type(obj)))


def _money(profile: Profile, amount: int) -> str:
    return format_units(amount, profile.scales.money_decimals)


def _price_exact(profile: Profile, units_: Fraction) -> str:
    return format_fraction(units_ / 10**profile.scales.price_decimals)


def margin_report(snap: Snapshot, profile: Profile) -> dict[str, Any]:
    """Rules: ACC-CRS-01, ACC-ISO-01, ACC-WDR-01, ACC-LIQ-01. Per-position and account figures."""
    acct, marks, oi = snap.account, snap.marks, snap.oi_notional
    acc = accounting_of(profile)
    rules = {
        "ACC-SNAP-01",
        "ACC-CRS-01",
        "ACC-COL-01",
        "ACC-LIQ-01",
        "ACC-WDR-01",
        "PNL-NOT-01",
        "PNL-AVG-01",
    }
    rows = []
    for (sym, slot), pos in sorted(acct.positions.items()):
        market = profile.market(sym)
        rules.add("PNL-INV-01" if market.contract is ContractKind.INVERSE else "PNL-LIN-01")
        rules.update(_rules_of(market.margin))
        if acc.per_contract_rounding():
            rules.add("PNL-AVG-02")
        if acc.upnl_rounding is Rounding.TRUNC:
            rules.add("PNL-LIN-02")
        if acc.liability_rounding is not Rounding.CEIL:
            rules.add("PNL-NOT-02")
        req = position_requirement(sym, pos, marks, profile, oi)
        row: dict[str, Any] = {
            "symbol": sym,
            "slot": slot,
            "mode": "isolated" if pos.isolated else "cross",
            "size": format_units(pos.size, profile.scales.size_decimals),
            "entry_price": _price_exact(profile, entry_price(pos, market, profile.scales, acc)),
            "mark": format_units(marks[sym], profile.scales.price_decimals),
            "notional": _money(profile, notional(abs(pos.size), marks[sym], market, profile.scales, acc)),
            "upnl": _money(profile, position_upnl(sym, pos, marks, profile)),
            "initial_margin": _money(profile, req.initial),
            "maintenance_margin": _money(profile, req.maintenance),
            "leverage": None if pos.leverage is None else str(pos.leverage),
        }
        if pos.isolated:
            rules.add("ACC-ISO-01")
            key = (sym, slot)
            row["isolated_margin"] = _money(profile, pos.isolated_margin)
            row["isolated_equity"] = _money(profile, isolated_equity(acct, key, marks, profile))
            row["liquidatable"] = isolated_liquidatable(acct, key, marks, profile, oi)
        rows.append(row)
    if acct.hedge_mode:
        rules.add("ACC-HDG-01")
    cross = requirement(acct, marks, profile, oi)
    return {
        "command": "margin",
        "profile": profile.name,
        "account": acct.id,
        "settlement": profile.meta.settlement,
        "positions": rows,
        "cross": {
            "collateral": _money(profile, acct.collateral),
            "equity": _money(profile, equity(acct, marks, profile)),
            "initial_collateral": _money(profile, collateral(acct, marks, profile, initial=True)),
            "maintenance_collateral": _money(profile, collateral(acct, marks, profile, initial=False)),
            "initial_margin": _money(profile, cross.initial),
            "maintenance_margin": _money(profile, cross.maintenance),
            "available_for_withdrawal": _money(profile, available_for_withdrawal(acct, marks, profile, oi)),
            "liquidatable": liquidatable(acct, marks, profile, oi),
            "trigger": acc.trigger.value,
        },
        "rules": sorted(rules),
    }


def price_report(what: str, snap: Snapshot, profile: Profile) -> dict[str, Any]:
    """Liquidation or bankruptcy price of every position (``perpspec.liquidation.price``)."""
    try:
        from perpspec.liquidation import price as liq
    except ImportError:  # pragma: no cover - the module ships with perpspec
        raise InputError(
            Place("perpspec calc", None, "what"), f"{what} is not available in this build"
        ) from None
    fn = liq.liquidation_price if what == "liquidation-price" else liq.bankruptcy_price
    rules: set[str] = {"ACC-SNAP-01"}
    rows = []
    for (sym, slot), pos in sorted(snap.account.positions.items()):
        try:
            res = fn(snap.account, sym, slot, snap.marks, profile)
        except (ValueError, KeyError) as exc:
            raise InputError(
                Place(profile.source, None, "liquidation"), f"{what} of {sym}/{slot}: {exc}"
            ) from None
        rules.update(res.rules)
        rows.append(
            {
                "symbol": sym,
                "slot": slot,
                "mode": "isolated" if pos.isolated else "cross",
                "size": format_units(pos.size, profile.scales.size_decimals),
                "exact": None if res.exact is None else format_fraction(res.exact),
                "rounded": None
                if res.rounded is None
                else format_units(res.rounded, profile.scales.price_decimals),
                "tier": res.tier,
                "note": res.note,
                "rules": list(res.rules),
            }
        )
    return {
        "command": what,
        "profile": profile.name,
        "account": snap.account.id,
        "positions": rows,
        "rules": sorted(rules),
    }


def _print_table(report: dict[str, Any]) -> None:
    from perpspec.terminal import out_console
    from rich.table import Table

    console = out_console(width=200)  # no markup: account ids and symbols are user text
    rows = report["positions"]
    title = f"perpspec calc {report['command']} — {report['profile']} — account {report['account']}"
    cols = [k for k in rows[0] if k != "rules"] if rows else ["symbol"]
    table = Table(*cols, title=title)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
    console.print(table)
    if "cross" in report:
        t2 = Table("cross", f"value ({report['settlement']})", title="cross account")
        for k, v in report["cross"].items():
            t2.add_row(k, str(v))
        console.print(t2)
    console.print("rules: " + ", ".join(report["rules"]), highlight=False)


def run_calc(what: str, profile_ref: str, account_path: Path | str, json_out: bool) -> int:
    """Rule: ACC-SNAP-01. ``perpspec calc WHAT --profile P --account FILE [--json]``."""
    if what not in WHATS:
        raise InputError(
            Place("perpspec calc", None, "what"),
            f"unknown calculation {what!r}; expected one of: {', '.join(WHATS)}",
        )
    profile = load_profile(profile_ref)
    snap = load_snapshot(account_path, profile)
    report = margin_report(snap, profile) if what == "margin" else price_report(what, snap, profile)
    if json_out:
        sys.stdout.write(
            orjson.dumps(report, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode() + "\n"
        )
    else:
        _print_table(report)
    return 0


__all__ = ["Snapshot", "load_snapshot", "margin_report", "price_report", "run_calc"]
