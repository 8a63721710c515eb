"""Drift v2 perp margin: size-premium margin ratios (integer square root), high-leverage mode,
and the weights on unrealized PnL in collateral.

Units are Drift's own: base 1e-9 (``BASE_PRECISION``), quote 1e-6 (``QUOTE_PRECISION``),
margin ratios 1e-4 (``MARGIN_PRECISION``), IMF factors 1e-6, asset weights 1e-4. Every
division is Rust's unsigned/signed integer division (floor for the non-negative values,
toward zero for signed PnL). Int backend only (the integer square root has no Z3 form).

Rules: MRG-DRF-01 (size premium), MRG-DRF-02 (high-leverage initial ratio),
MRG-DRF-03 (margin requirement), MRG-DRF-04 (unrealized PnL weights),
MRG-DRF-05 ($100 cap on positive uPnL for initial margin).
"""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs
from perpspec.margin import MarginModel, PositionRisk
from perpspec.numeric import div_floor, div_trunc, isqrt_floor
from perpspec.quantities import Money
from perpspec.ranges import ranged
from perpspec.registry import variant
from perpspec.traceability import implements
from perpspec.units import RATE_ONE

MARGIN_PRECISION = 10_000
SPOT_WEIGHT_PRECISION = 10_000
SPOT_IMF_PRECISION = 1_000_000
PERCENTAGE_PRECISION = 1_000_000
QUOTE_PRECISION = 1_000_000
PRICE_PRECISION = 1_000_000
#: quote (1e-6) to base/AMM (1e-9) precision ratio
AMM_TO_QUOTE_PRECISION_RATIO = 1_000
#: the cap on weighted positive uPnL counted in initial margin, per position (quote units)
MAX_POSITIVE_UPNL_FOR_INITIAL_MARGIN = 100 * QUOTE_PRECISION


class Requirement(enum.Enum):
    """Drift's margin requirement types."""

    INITIAL = "initial"
    FILL = "fill"
    MAINTENANCE = "maintenance"


@implements("MRG-DRF-01")
def _default_ratio(kind: Requirement, initial: int, maintenance: int) -> int:
    """Rule: MRG-DRF-01. The type's default ratio: Initial, Maintenance, or Fill
    :math:`\\lfloor (im + mm)/2 \\rfloor`."""
    if kind is Requirement.FILL:
        return (initial + maintenance) // 2
    return initial if kind is Requirement.INITIAL else maintenance


@implements("MRG-DRF-01")
def size_premium_ratio(size: int, imf_factor: int, ratio: int, bounded: bool = True) -> int:
    """Rule: MRG-DRF-01. :math:`r' = (r - \\lfloor r/5 \\rfloor) + \\lfloor \\lfloor\\sqrt{10 s + 1}\\rfloor
    \\cdot imf / 10^7 \\rfloor`; bounded: :math:`\\max(r, r')`. ``size`` in 1e-9 base; ``imf_factor``
    1e-6; ratios 1e-4. With ``imf_factor = 0`` the ratio is unchanged."""
    if imf_factor == 0:
        return ratio
    root = isqrt_floor(size * 10 + 1)
    denom = 100_000 * SPOT_IMF_PRECISION // MARGIN_PRECISION
    premium = ratio - div_floor(ratio, 5) + div_floor(root * imf_factor, denom)
    return max(ratio, premium) if bounded else premium


@implements("MRG-DRF-02")
def high_leverage_initial_ratio(pre_size_adj: int, size_adj: int, default: int) -> int:
    """Rule: MRG-DRF-02. High-leverage-mode Initial (or Fill) ratio from the normal ratio of
    the same type ``pre_size_adj``, its unbounded size premium ``size_adj`` and the type's HLM
    default ratio (Drift ``calc_high_leverage_mode_initial_margin_ratio_from_size``).

    - ``size_adj < pre``:
      :math:`f = (10^6 - \\lfloor (pre - size\\_adj) 10^6 / \\lfloor pre/5 \\rfloor \\rfloor)^+`,
      :math:`\\delta = \\max((pre - default)^+, 1)`,
      result :math:`default + \\lfloor \\delta f / 10^6 \\rfloor`;
    - ``size_adj == pre``: ``default``; ``size_adj > pre``: ``size_adj``.
    """
    if size_adj < pre_size_adj:
        fifth = max(div_floor(pre_size_adj, 5), 1)
        factor = max(
            PERCENTAGE_PRECISION - div_floor((pre_size_adj - size_adj) * PERCENTAGE_PRECISION, fifth), 0
        )
        delta = max(max(pre_size_adj - default, 0), 1)
        return int(div_floor(delta * factor, PERCENTAGE_PRECISION)) + default
    if size_adj == pre_size_adj:
        return default
    return size_adj


@implements("MRG-DRF-04")
def size_discount_asset_weight(size: int, imf_factor: int, weight: int) -> int:
    """Rule: MRG-DRF-04. :math:`\\min(w, \\lfloor 1.1 \\cdot 10^6 \\cdot 10^4 / (10^6 + \\lfloor
    \\lfloor\\sqrt{10 s + 1}\\rfloor \\cdot imf / 10^5 \\rfloor) \\rfloor)`; ``size`` in 1e-9."""
    if imf_factor == 0:
        return weight
    root = isqrt_floor(size * 10 + 1)
    numerator = SPOT_IMF_PRECISION + SPOT_IMF_PRECISION // 10
    discounted = div_floor(
        numerator * SPOT_WEIGHT_PRECISION, SPOT_IMF_PRECISION + div_floor(root * imf_factor, 100_000)
    )
    return min(weight, int(discounted))


_W100 = SPOT_WEIGHT_PRECISION  # an asset weight of 100% (10000)


@variant("margin", "drift-size-premium")
@attrs.frozen
class DriftSizePremium(MarginModel):
    """Rules: MRG-DRF-01, MRG-DRF-02, MRG-DRF-03, MRG-DRF-04, MRG-DRF-05, ACC-COL-01.

    :math:`MR = \\lfloor N \\cdot \\max(custom, ratio(|base|, type)) / 10^4 \\rfloor`.
    """

    #: Drift weights unrealized PnL in collateral (asset weights, the $100 cap; ACC-COL-01)
    weights_upnl: ClassVar[bool] = True

    margin_ratio_initial: int = ranged(0)
    margin_ratio_maintenance: int = ranged(1, why="1e-4 units")
    imf_factor: int = ranged(0, default=0)
    high_leverage_margin_ratio_initial: int = ranged(0, default=0)
    high_leverage_margin_ratio_maintenance: int = ranged(0, default=0)
    unrealized_pnl_initial_asset_weight: int = ranged(0, _W100, default=_W100)
    unrealized_pnl_maintenance_asset_weight: int = ranged(0, _W100, default=_W100)
    unrealized_pnl_imf_factor: int = ranged(0, default=0)
    unrealized_pnl_max_imbalance: Money = ranged(0, default=Money(0))

    def check(self) -> list[tuple[str, str]]:
        out = []
        if self.margin_ratio_initial < self.margin_ratio_maintenance:
            out.append(("margin_ratio_initial", "the initial ratio must be at least the maintenance ratio"))
        if self.high_leverage_margin_ratio_initial < self.high_leverage_margin_ratio_maintenance:
            out.append(
                (
                    "high_leverage_margin_ratio_initial",
                    "the HLM initial ratio must be at least the HLM maintenance ratio",
                )
            )
        return out

    def high_leverage_enabled(self) -> bool:
        return self.high_leverage_margin_ratio_initial > 0 and self.high_leverage_margin_ratio_maintenance > 0

    @implements("MRG-DRF-01", "MRG-DRF-02")
    def margin_ratio(self, size: int, kind: Requirement, high_leverage: bool = False) -> int:
        """Rules: MRG-DRF-01, MRG-DRF-02. The margin ratio (1e-4) of a position of ``size``
        (1e-9 base, absolute).

        Normal mode: the type's default ratio (Fill = floor of the average), size premium,
        bounded below by the default. High-leverage mode: Maintenance as normal on the HLM
        ratios; Initial and Fill interpolate between the type's HLM default and the normal
        size-adjusted ratio of the same type (MRG-DRF-02).
        """
        hlm = high_leverage and self.high_leverage_enabled()
        im = self.high_leverage_margin_ratio_initial if hlm else self.margin_ratio_initial
        mm = self.high_leverage_margin_ratio_maintenance if hlm else self.margin_ratio_maintenance
        default = _default_ratio(kind, im, mm)
        if hlm and kind is not Requirement.MAINTENANCE:
            pre = _default_ratio(kind, self.margin_ratio_initial, self.margin_ratio_maintenance)
            size_adj = size_premium_ratio(size, self.imf_factor, pre, bounded=False)
            return high_leverage_initial_ratio(pre, size_adj, default)
        return max(default, size_premium_ratio(size, self.imf_factor, default))

    @implements("MRG-DRF-03")
    def requirement(
        self, pos: PositionRisk, kind: Requirement, high_leverage: bool = False, custom_ratio: int = 0
    ) -> int:
        """Rule: MRG-DRF-03. :math:`\\lfloor N \\cdot \\max(custom, ratio) / 10^4 \\rfloor` (quote units)."""
        ratio = max(custom_ratio, self.margin_ratio(int(pos.size), kind, high_leverage))
        return int(div_floor(pos.notional * ratio, MARGIN_PRECISION))

    def maintenance_ratio(self, size: int) -> int | None:
        """The normal-mode maintenance ratio at ``size`` (MRG-DRF-01), 1e-4 read as 10^-8."""
        return self.margin_ratio(size, Requirement.MAINTENANCE) * (RATE_ONE // MARGIN_PRECISION)

    @implements("MRG-DRF-03")
    def maintenance(self, pos: PositionRisk) -> int:
        """Rule: MRG-DRF-03 (maintenance type, normal mode)."""
        return self.requirement(pos, Requirement.MAINTENANCE)

    @implements("MRG-DRF-03")
    def initial(self, pos: PositionRisk) -> int:
        """Rule: MRG-DRF-03 (initial type, normal mode)."""
        return self.requirement(pos, Requirement.INITIAL)

    @implements("MRG-DRF-04")
    def unrealized_asset_weight(self, upnl: int, kind: Requirement, net_user_pnl: int = 0) -> int:
        """Rule: MRG-DRF-04. Weight (1e-4) on a position's unrealized PnL (quote units).

        Negative or zero uPnL: 10000. Positive: maintenance weight for Maintenance; for Initial
        and Fill the initial weight, scaled by ``max_imbalance / net_user_pnl`` when the market's
        net user PnL exceeds the max imbalance, then size-discounted (0 stays 0).
        """
        if upnl <= 0:
            return SPOT_WEIGHT_PRECISION
        if kind is Requirement.MAINTENANCE:
            return self.unrealized_pnl_maintenance_asset_weight
        weight = self.unrealized_pnl_initial_asset_weight
        cap = self.unrealized_pnl_max_imbalance
        if weight > 0 and cap > 0 and net_user_pnl > cap:
            weight = int(div_floor(weight * cap, net_user_pnl))
        if weight == 0:
            return 0
        return size_discount_asset_weight(
            upnl * AMM_TO_QUOTE_PRECISION_RATIO, self.unrealized_pnl_imf_factor, weight
        )

    @implements("MRG-DRF-04", "MRG-DRF-05")
    def weighted_unrealized_pnl(
        self, upnl: int, kind: Requirement, net_user_pnl: int = 0, quote_price: int = PRICE_PRECISION
    ) -> int:
        """Rules: MRG-DRF-04, MRG-DRF-05. :math:`w = \\mathrm{trunc}(uPnL \\cdot weight / 10^4)`, times
        the quote price (1e-6, truncated) when it is not 1; for Initial,
        :math:`\\min(w, 100 \\cdot 10^6)` (at most $100 of positive uPnL per position)."""
        weight = self.unrealized_asset_weight(upnl, kind, net_user_pnl)
        out = upnl
        if weight != SPOT_WEIGHT_PRECISION:
            out = int(div_trunc(out * weight, SPOT_WEIGHT_PRECISION))
        if quote_price != PRICE_PRECISION:
            out = int(div_trunc(out * quote_price, PRICE_PRECISION))
        if kind is Requirement.INITIAL:
            out = min(out, MAX_POSITIVE_UPNL_FOR_INITIAL_MARGIN)
        return out

    @implements("ACC-COL-01", "MRG-DRF-05")
    def collateral_upnl(self, upnl: int, initial: bool) -> int:
        """Rules: ACC-COL-01, MRG-DRF-04, MRG-DRF-05. A position's contribution to Drift's total
        collateral: :meth:`weighted_unrealized_pnl` of type Initial (capped at $100) or
        Maintenance (Drift ``calculate_perp_position_value_and_pnl``, quote price 1)."""
        return self.weighted_unrealized_pnl(upnl, Requirement.INITIAL if initial else Requirement.MAINTENANCE)
