"""Per-market runtime: a profile's choices resolved once, its formulas generated once.

The hot path (a fill, an account's equity and margin, a funding settlement) asks the same
questions of the profile over and over: which accounting variant, which scales, which margin
model, which fee rates and rounding. :func:`runtime_of` answers them once per profile
object: a :class:`ProfileRuntime` holding one :class:`MarketRuntime` per market, whose
formula attributes are plain Python functions of the position's integers, **generated** by
:func:`perpspec.codegen.generate` from the one definition of each formula with the market's
constants folded in:

- ``notional(size_abs, price)``: :func:`perpspec.position.notional_term` (PNL-NOT-01);
- ``margin_notional(size_abs, price)``: :func:`perpspec.position.margin_notional_term`, the
  notional fed to the margin model (PNL-NOT-02);
- ``upnl(size, entry_value, mark)``: :func:`perpspec.position.upnl_term` (PNL-LIN-01, PNL-INV-01);
- ``initial(size, notional, leverage, oi_notional)`` and ``maintenance(...)``: the market's
  margin variant's ``initial`` / ``maintenance`` of a
  :class:`~perpspec.margin.PositionRisk` (``leverage`` may be ``None``);
- ``fee(qty, price, notional, rate)``: :func:`perpspec.fees.fill_fee_term` with the
  profile's fee rounding (FEE-MT-01).

A formula that cannot be traced (:class:`perpspec.codegen.NotTraceable`) is served by a
closure that calls its definition; ``MarketRuntime.generated`` names the ones that were
generated, and ``reads_oi`` whether the margin model reads the open-interest notional (only
dYdX's does; the engine computes that notional only for such markets). Each generated
function equals its definition on every input (tests/engine/test_codegen.py checks it on
random inputs for every bundled market).

A profile is frozen data: a ``param_change`` builds a new profile object and so a new
runtime. The cache is keyed by the profile's identity and holds the profile, so an id is
never reused while its entry lives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perpspec.codegen import NotTraceable, generate
from perpspec.fees import NO_FEES_ROUNDING, fill_fee_term
from perpspec.margin import PositionRisk
from perpspec.margin.accounting import AccountingBase
from perpspec.numeric import Rounding
from perpspec.position import accounting_of, margin_notional_term, notional_term, upnl_term
from perpspec.profile import ContractKind, MarketSpec, Profile, Scales

__all__ = ["MarketRuntime", "ProfileRuntime", "runtime_of"]


class MarketRuntime:
    """One market of one profile, resolved (see the module docstring). Read-only by convention."""

    __slots__ = (
        "accounting",
        "fee",
        "generated",
        "initial",
        "inverse",
        "maintenance",
        "margin_notional",
        "notional",
        "reads_oi",
        "scales",
        "spec",
        "symbol",
        "upnl",
        "weights_upnl",
    )

    def __init__(
        self,
        symbol: str,
        spec: MarketSpec,
        scales: Scales,
        accounting: AccountingBase,
        fee_rounding: Rounding,
    ) -> None:
        self.symbol, self.spec, self.scales, self.accounting = symbol, spec, scales, accounting
        self.inverse = spec.contract is ContractKind.INVERSE
        margin = spec.margin
        per_contract = accounting.per_contract_rounding()
        generated: list[str] = []

        reads_oi = False

        def make(
            name: str, params: tuple[str, ...], fn: Callable[..., Any], optional: tuple[str, ...] = ()
        ) -> Callable[..., int]:
            nonlocal reads_oi
            try:
                g = generate(name, params, fn, optional)
            except NotTraceable:
                reads_oi = True  # unknown: assume the definition reads every input
                return lambda *args: int(fn(*args))
            generated.append(name)
            reads_oi = reads_oi or "oi_notional" in g.reads
            return g.fn

        self.notional = make(
            "notional", ("size_abs", "price"), lambda q, p: notional_term(q, p, spec, scales, accounting)
        )
        self.margin_notional = make(
            "margin_notional",
            ("size_abs", "price"),
            lambda q, p: margin_notional_term(q, p, spec, scales, accounting),
        )
        self.upnl = make(
            "upnl",
            ("size", "entry_value", "mark"),
            lambda q, e, m: upnl_term(q, e, m, spec, scales, accounting),
        )
        self.initial = make(
            "initial",
            ("size", "notional", "leverage", "oi_notional"),
            lambda q, n, lev, oi: margin.initial(PositionRisk(q, n, lev, oi)),
            ("leverage",),
        )
        self.maintenance = make(
            "maintenance",
            ("size", "notional", "leverage", "oi_notional"),
            lambda q, n, lev, oi: margin.maintenance(PositionRisk(q, n, lev, oi)),
            ("leverage",),
        )
        self.fee = make(
            "fee",
            ("qty", "price", "notional", "rate"),
            lambda q, p, n, r: fill_fee_term(q, p, n, r, fee_rounding, spec, scales, per_contract),
        )
        self.generated = tuple(generated)
        #: does the margin model weight uPnL in collateral (ACC-COL-01)?
        self.weights_upnl = margin.weights_upnl
        #: does the margin model's IM or MM depend on the market's open-interest notional?
        self.reads_oi = reads_oi


class ProfileRuntime:
    """A profile's resolved choices: its accounting variant, fee rates and rounding, and one
    :class:`MarketRuntime` per market. Read-only by convention."""

    __slots__ = ("accounting", "fee_rounding", "maker_rate", "markets", "profile", "taker_rate")

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.accounting = accounting_of(profile)
        fees = profile.mechanism("fees")
        self.fee_rounding: Rounding = NO_FEES_ROUNDING if fees is None else fees.rounding
        self.maker_rate: int = 0 if fees is None else int(fees.maker_rate)
        self.taker_rate: int = 0 if fees is None else int(fees.taker_rate)
        self.markets: dict[str, MarketRuntime] = {
            sym: MarketRuntime(sym, spec, profile.scales, self.accounting, self.fee_rounding)
            for sym, spec in profile.markets.items()
        }


_CACHE: dict[int, ProfileRuntime] = {}
_CACHE_LIMIT = 64


def runtime_of(profile: Profile) -> ProfileRuntime:
    """The :class:`ProfileRuntime` of ``profile`` (built on first use, then cached)."""
    hit = _CACHE.get(id(profile))
    if hit is not None and hit.profile is profile:
        return hit
    rt = ProfileRuntime(profile)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[id(profile)] = rt
    return rt
