"""``perpspec replay``: apply a production event log and stop at the first divergence.

The log is JSON Lines (spec/events.md). Besides events it may carry ``expect`` records: what
the production engine itself reported after the event just before (balances, positions,
funding payments, fills, a rejection). The replay applies every event with
:func:`perpspec.engine.step`, checks each ``expect`` record against the model's state and
outputs and stops at the first mismatch with a readable diff: the line, the field,
expected vs got, the rule IDs involved and the state of the accounts touched (exit code 1).
A clean replay prints a summary and exits 0; bad input exits 2 (file, line, field).

``--digests FILE`` writes ``<line> <sha256>`` per event (rule EVT-DIG-01) so two
implementations can bisect to the first differing step; ``--outputs FILE`` writes every
output record (rule EVT-OUT-01). The same input gives byte-identical files.

Rules: ORC-RPL-01, ORC-RPL-02, ORC-RPL-03, ORC-RPL-04 (replay order and exit codes, expect
records, comparison and the divergence report, digest and output files).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
from perpspec.decoding import load_json_line
from perpspec.engine import step
from perpspec.errors import InputError, Place
from perpspec.events import (
    BadDebtOut,
    Event,
    FeeOut,
    FillOut,
    FundingPayment,
    FundingRateOut,
    InsuranceOut,
    LiquidationOut,
    Reject,
    UncoveredLossOut,
    decode_line,
    encode_output,
)
from perpspec.oracle.digest import digest
from perpspec.oracle.expect import LIQUIDATION_UNITS, UNSET, Expect, decode_expect
from perpspec.outfiles import Sink
from perpspec.profile import Profile
from perpspec.profiles import load_profile
from perpspec.state import Exchange, initial_exchange
from perpspec.traceability import implements
from perpspec.units import RATE_DECIMALS, format_fraction, format_units
from rich.console import Console

#: Rules involved when an event of this kind diverges (besides any rejection's own rule).
RULES_BY_KIND: Mapping[str, tuple[str, ...]] = {
    "deposit": ("EVT-AMT-01",),
    "withdraw": ("ENG-WDR-01", "ACC-WDR-01"),
    "fill": ("EVT-TRD-01", "ENG-FILL-01", "FEE-MT-01", "PNL-RED-01", "ENG-IMR-01"),
    "funding_settlement": ("ENG-FUND-01", "FND-PAY-01", "FND-SUM-01"),
    "set_leverage": ("ENG-LEV-01", "ENG-LEV-02"),
    "isolated_margin_transfer": ("ENG-ISO-01", "ENG-ISO-02"),
    "liquidation": ("LIQ-LOG-01", "LIQ-OUT-01"),
}


@attrs.frozen
class Divergence:
    """Rule: ORC-RPL-03. The first mismatch between the log's expectations and the model."""

    line: int
    event_line: int
    event_kind: str
    field: str
    expected: str
    got: str
    rules: tuple[str, ...]
    accounts: tuple[str, ...]
    outputs: tuple[str, ...]

    def render(self, file: str, ex: Exchange) -> str:
        """The readable diff printed by ``perpspec replay``."""
        lines = [
            f"DIVERGENCE at {file}:{self.line} "
            f"(expect record for the {self.event_kind} event at line {self.event_line})",
            f"  field:    {self.field}",
            f"  expected: {self.expected}",
            f"  got:      {self.got}",
            f"  rules:    {', '.join(self.rules) if self.rules else '-'}",
        ]
        if self.accounts:
            lines.append("  accounts touched (model state after the event):")
            lines += [f"    {row}" for aid in self.accounts for row in describe_account(ex, aid)]
        if self.outputs:
            lines.append("  model outputs of the event:")
            lines += [f"    {o}" for o in self.outputs]
        return "\n".join(lines)


@attrs.frozen
class ReplayResult:
    """What a replay did: counts, rejections by rule, the final state, the first divergence."""

    events: int
    expects: int
    rejections: Mapping[str, int]
    by_kind: Mapping[str, int]
    exchange: Exchange
    divergence: Divergence | None


def describe_account(ex: Exchange, aid: str) -> list[str]:
    """One account's collateral, equity, margin and open positions as readable lines (exact decimals)."""
    from perpspec.account import equity, requirement
    from perpspec.position import accounting_of, entry_price

    sc = ex.profile.scales
    acct = ex.accounts.get(aid)
    if acct is None:
        return [f"{aid}: (no such account)"]
    money = sc.money_decimals
    head = f"{aid}: collateral {format_units(acct.collateral, money)}"
    marks = ex.marks()
    try:
        req = requirement(acct, marks, ex.profile)
        head += (
            f", cross equity {format_units(equity(acct, marks, ex.profile), money)}"
            f", IM {format_units(req.initial, money)}, MM {format_units(req.maintenance, money)}"
        )
    except (KeyError, ValueError):  # a market without any price yet: no valuation
        pass
    rows = [head]
    for (sym, slot), p in sorted(acct.positions.items()):
        if p.size == 0 and p.isolated_margin == 0:
            continue
        entry = ""
        if p.size != 0:
            try:
                ep = entry_price(p, ex.profile.market(sym), sc, accounting_of(ex.profile))
                entry = f", entry price {format_fraction(ep / 10**sc.price_decimals, sc.price_decimals + 4)}"
            except ValueError as exc:  # an inverse entry value rounded to 0 coins
                entry = f", entry price: {exc}"
        rows.append(
            f"  {sym}/{slot}: size {format_units(p.size, sc.size_decimals)}{entry}"
            + (f", isolated margin {format_units(p.isolated_margin, money)}" if p.isolated else "")
            + (f", leverage {p.leverage}" if p.leverage is not None else "")
        )
    bad = ex.bad_debt.get(aid)
    if bad:
        rows.append(f"  bad debt {format_units(bad, money)}")
    return rows


# --------------------------------------------------------------------------- reading


def _is_expect(raw: bytes) -> bool:
    return b'"expect"' in raw


def _is_header(raw: bytes) -> bool:
    return b'"scenario"' in raw


@implements("ORC-RPL-01")
def iter_log(path: Path, profile: Profile, progress: Any = None) -> Iterator[tuple[int, Event | Expect]]:
    """Rule: ORC-RPL-01. The log's events and expect records in order, with their line numbers.

    Blank lines are skipped; a scenario header on line 1 (spec/events.md, "Scenario files")
    is skipped; every other line is decoded strictly.
    """
    name = str(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise InputError(Place(name), f"cannot read the event log: {exc.strerror}") from None
    done = 0
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            if progress is not None:
                done += len(raw)
                if lineno % 4096 == 0:
                    progress(done)
            if not raw.strip():
                continue
            if lineno == 1 and _is_header(raw):
                head = load_json_line(raw, name, lineno)
                if isinstance(head, dict) and head.get("kind") == "scenario":
                    continue
            if _is_expect(raw):
                obj = load_json_line(raw, name, lineno)
                if isinstance(obj, dict) and obj.get("kind") == "expect":
                    yield lineno, decode_expect(raw, profile, name, lineno)
                    continue
            yield lineno, decode_line(raw, profile, name, lineno)
    if progress is not None:
        progress(done)


# --------------------------------------------------------------------------- comparing


def _fmt(v: int | None, decimals: int) -> str:
    return "null" if v is None else format_units(v, decimals)


@implements("ORC-RPL-03")
def check(exp: Expect, event_line: int, event: Event, ex: Exchange, outs: list[Any]) -> Divergence | None:
    """Rule: ORC-RPL-03. Compare one expect record with the model after ``event``.

    Order of checks: rejection, balances, positions, funding payments, funding rate, fills,
    liquidations, insurance fund balances.
    """
    sc = ex.profile.scales
    kind = type(event).kind
    base_rules = RULES_BY_KIND.get(kind, ())
    rejects = [o for o in outs if isinstance(o, Reject)]
    got_reject = rejects[0].rule_id if rejects else None
    touched = _touched(event, outs)
    encoded = tuple(encode_output(o, ex.profile).decode() for o in outs)

    def div(
        field: str, expected: str, got: str, rules: tuple[str, ...], accounts: tuple[str, ...] = ()
    ) -> Divergence:
        rr = tuple(dict.fromkeys((*rules, *(r.rule_id for r in rejects), "ORC-RPL-03")))
        accs = tuple(dict.fromkeys((*accounts, *touched)))
        return Divergence(exp.line, event_line, kind, field, expected, got, rr, accs, encoded)

    def account_div(field: str, aid: str, want: int | None, got: int | None, decimals: int) -> Divergence:
        """An account's value off its expectation: both at the value's scale, the event's rules."""
        return div(field, _fmt(want, decimals), _fmt(got, decimals), base_rules, (aid,))

    if exp.reject != got_reject and not (exp.reject == UNSET and got_reject is None):
        want = "accepted" if exp.reject in (None, UNSET) else f"rejected by {exp.reject}"
        got = "accepted" if got_reject is None else f"rejected by {got_reject}: {rejects[0].reason}"
        return div("reject", want, got, base_rules)
    for aid, want_bal in exp.balances.items():
        acct = ex.accounts.get(aid)
        got_bal = None if acct is None else acct.collateral
        if got_bal != want_bal:
            return account_div(f"balances.{aid}", aid, want_bal, got_bal, sc.money_decimals)
    for (aid, sym, slot), want_size in exp.positions.items():
        acct = ex.accounts.get(aid)
        pos = None if acct is None else acct.positions.get((sym, slot))
        got_size = 0 if pos is None else pos.size
        if got_size != want_size:
            return account_div(f"positions.{aid}.{sym}/{slot}", aid, want_size, got_size, sc.size_decimals)
    if exp.funding:
        paid: dict[str, int] = {}
        for o in outs:
            if isinstance(o, FundingPayment):
                paid[o.account] = paid.get(o.account, 0) + o.amount
        for aid, want_pay in exp.funding.items():
            got_pay = paid.get(aid)
            if got_pay != want_pay:
                return div(
                    f"funding.{aid}",
                    _fmt(want_pay, sc.money_decimals),
                    "no payment" if got_pay is None else _fmt(got_pay, sc.money_decimals),
                    ("ENG-FUND-01", "FND-PAY-01", "FND-SUM-01"),
                    (aid,),
                )
    if exp.funding_rate is not None:
        rates = [o.rate for o in outs if isinstance(o, FundingRateOut)]
        got_rate = rates[0] if rates else None
        if got_rate != exp.funding_rate:
            return div(
                "funding_rate",
                format_units(exp.funding_rate, RATE_DECIMALS),
                _fmt(got_rate, RATE_DECIMALS),
                ("ENG-FUND-01", "FND-AVG-01", "FND-CLP-01", "FND-CAP-01"),
            )
    if exp.fills is not None:
        d = _check_fills(exp.fills, outs, sc, div)
        if d is not None:
            return d
    if exp.liquidations is not None:
        d = _check_liquidations(exp.liquidations, outs, sc, div)
        if d is not None:
            return d
    for fund, want_bal in exp.insurance.items():
        got_fund = ex.insurance.balances.get(fund)
        if got_fund != want_bal:
            moved = tuple(o.account for o in outs if isinstance(o, InsuranceOut) and o.fund == fund)
            return div(
                f"insurance.{fund}",
                _fmt(want_bal, sc.money_decimals),
                "no such fund" if got_fund is None else _fmt(got_fund, sc.money_decimals),
                ("INS-OUT-01", "INS-PAY-01", "LIQ-SET-01", "LIQ-SET-02"),
                moved,
            )
    return None


@implements("ORC-RPL-03")
def _check_liquidations(
    want: tuple[Mapping[str, Any], ...], outs: list[Any], sc: Any, div: Any
) -> Divergence | None:
    """Rule: ORC-RPL-03. The event's ``liquidation`` outputs (LIQ-OUT-01) against the expected
    parts, in order: their count, then each given field of each part; the rules are the part's
    own ``rule_id`` (the rule that sized its slice) and LIQ-OUT-01."""
    got = [o for o in outs if isinstance(o, LiquidationOut)]
    if len(got) != len(want):
        ids = tuple(dict.fromkeys(o.rule_id for o in got))
        return div(
            "liquidations",
            f"{len(want)} liquidation part(s)",
            f"{len(got)} liquidation part(s)",
            ("LIQ-PAS-01", "LIQ-OUT-01", *ids),
            tuple(dict.fromkeys(str(w["account"]) for w in want)),
        )
    decimals = {
        "size": sc.size_decimals,
        "price": sc.price_decimals,
        "money": sc.money_decimals,
    }
    for i, (w, o) in enumerate(zip(want, got, strict=True)):
        values: dict[str, Any] = {
            "account": o.account,
            "symbol": o.symbol,
            "slot": o.slot,
            "counterparty": o.counterparty,
            "qty": o.qty,
            "price": o.price,
            "position": o.position,
            "realized_pnl": o.realized_pnl,
            "fee": o.fee,
            "counterparty_fee": o.counterparty_fee,
            "insurance_delta": o.insurance_delta,
            "deficit": o.deficit,
        }
        expected = {"slot": "BOTH", **w}
        for key, value in expected.items():
            if values[key] == value:
                continue
            rules = (o.rule_id, "LIQ-OUT-01")
            if key in LIQUIDATION_UNITS:
                dec = decimals[LIQUIDATION_UNITS[key]]
                return div(
                    f"liquidations[{i}].{key}", _fmt(value, dec), _fmt(values[key], dec), rules, (o.account,)
                )
            return div(
                f"liquidations[{i}].{key}", str(value), str(values[key]), rules, (str(value), o.account)
            )
    return None


def _check_fills(
    want: tuple[Mapping[str, Any], ...], outs: list[Any], sc: Any, div: Any
) -> Divergence | None:
    fills = [o for o in outs if isinstance(o, FillOut)]
    fees = [o for o in outs if isinstance(o, FeeOut)]
    rules = ("ENG-FILL-01", "FEE-MT-01", "PNL-RED-01")
    if len(fills) != len(want):
        return div("fills", f"{len(want)} fill side(s)", f"{len(fills)} fill side(s)", rules)
    units = {
        "qty": sc.size_decimals,
        "price": sc.price_decimals,
        "fee": sc.money_decimals,
        "realized_pnl": sc.money_decimals,
        "position": sc.size_decimals,
    }
    for i, (w, f) in enumerate(zip(want, fills, strict=True)):
        fee = next((x.amount for x in fees if x.account == f.account), None)
        got: dict[str, Any] = {
            "account": f.account,
            "qty": f.qty,
            "price": f.price,
            "fee": fee,
            "realized_pnl": f.realized_pnl,
            "position": f.position,
        }
        for key, value in w.items():
            if got[key] != value:
                if key == "account":
                    return div(
                        f"fills[{i}].account", str(value), str(got[key]), rules, (str(value), f.account)
                    )
                return div(
                    f"fills[{i}].{key}",
                    _fmt(value, units[key]),
                    _fmt(got[key], units[key]),
                    rules,
                    (f.account,),
                )
    return None


def _touched(event: Event, outs: list[Any]) -> tuple[str, ...]:
    names: list[str] = []
    for attr in ("account", "buyer", "seller"):
        v = getattr(event, attr, None)
        if isinstance(v, str):
            names.append(v)
    for o in outs:
        if isinstance(o, (FillOut, BadDebtOut, LiquidationOut, UncoveredLossOut)):
            names.append(o.account)
        if isinstance(o, LiquidationOut):
            names.append(o.counterparty)
    return tuple(dict.fromkeys(names))


# --------------------------------------------------------------------------- the replay


@implements("ORC-RPL-01", "ORC-RPL-04")
def replay_log(
    path: Path,
    profile: Profile,
    digests: Sink | None = None,
    outputs: Sink | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    """Rules: ORC-RPL-01, ORC-RPL-04. Apply the log; stop at the first divergence.

    ``progress(bytes read, events applied)`` is called every few thousand lines.

    ``digests`` receives ``b"<line> <sha256 hex>\\n"`` after every event (rejected ones
    too: their state is unchanged); ``outputs`` receives every output line (EVT-OUT-01).
    """
    ex = initial_exchange(profile)
    rejections: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    events = expects = 0
    last: tuple[int, Event, list[Any]] | None = None

    def tick(done: int) -> None:
        if progress is not None:
            progress(done, events)

    for lineno, item in iter_log(path, profile, None if progress is None else tick):
        if isinstance(item, Expect):
            if last is None:
                raise InputError(Place(str(path), lineno, "kind"), "an expect record must follow an event")
            expects += 1
            d = check(item, last[0], last[1], ex, last[2])
            if d is not None:
                return ReplayResult(events, expects, dict(rejections), dict(by_kind), ex, d)
            continue
        ex, outs = step(ex, item)
        events += 1
        by_kind[type(item).kind] += 1
        for o in outs:
            if type(o) is Reject:
                rejections[o.rule_id] += 1
        if digests is not None:
            digests.write(b"%d %s\n" % (lineno, digest(ex).encode()))
        if outputs is not None:
            for o in outs:
                outputs.write(encode_output(o, profile) + b"\n")
        last = (lineno, item, outs)
    return ReplayResult(events, expects, dict(rejections), dict(by_kind), ex, None)


def run_replay(
    log: Path,
    profile_ref: str,
    digests: Path | None = None,
    outputs: Path | None = None,
    console: Console | None = None,
) -> int:
    """Rules: ORC-RPL-01, ORC-RPL-04. The ``perpspec replay`` command. 0 clean, 1 divergence
    (2: InputError).

    ``--digests``/``--outputs`` may not name an input (the log, a profile file) or each other;
    they are written through :func:`perpspec.outfiles.output_file`: renamed into place when
    the replay ends (with or without a divergence), removed after an input error. A progress
    bar (bytes of the log, events/s, ETA) shows on a terminal only.
    """
    from contextlib import ExitStack

    from perpspec.outfiles import output_file, refuse_inputs
    from perpspec.terminal import out_console, progress_bar

    console = console or out_console()
    profile = load_profile(profile_ref)
    if not log.exists():
        raise InputError(Place(str(log)), "no such event log")
    if log.is_dir():
        raise InputError(Place(str(log)), "a folder, not an event log")
    inputs = [log, *_profile_paths(profile_ref)]
    refuse_inputs({"--digests": digests, "--outputs": outputs}, inputs)
    with ExitStack() as stack:
        dig = stack.enter_context(output_file(digests, "--digests"))
        outf = stack.enter_context(output_file(outputs, "--outputs"))
        bar = stack.enter_context(progress_bar("replay", log.stat().st_size, "events", in_bytes=True))
        result = replay_log(log, profile, dig, outf, bar.update)
    if result.divergence is not None:
        console.print(result.divergence.render(str(log), result.exchange))
        return 1
    console.print(
        f"replay OK: {log}: {result.events} events, {result.expects} expect records checked, "
        f"{sum(result.rejections.values())} rejected"
    )
    for kind, n in sorted(result.by_kind.items()):
        console.print(f"  {kind}: {n}")
    for rule, n in sorted(result.rejections.items()):
        console.print(f"  rejected by {rule}: {n}")
    console.print(f"final state digest {digest(result.exchange)}")
    return 0


def _profile_paths(profile_ref: str) -> list[Path]:
    """The files a profile reference reads (none for a bundled profile name)."""
    from perpspec.profiles import bundled_names

    if profile_ref in bundled_names():
        return []
    path = Path(profile_ref)
    return sorted(path.glob("*.toml")) if path.is_dir() else [path]
