"""perpspec.liquidation: liquidation and bankruptcy prices.

- :mod:`perpspec.liquidation.closed_forms`: exact venue formulas (Fraction / Z3 Real), the
  equity-equals-MM condition and the LP-before-BP ordering used by the proofs;
- :mod:`perpspec.liquidation.price`: the account-level API (``liquidation_price``,
  ``bankruptcy_price`` -> ``PriceResult``), tier fixed point and tick rounding;
- :mod:`perpspec.liquidation.variants`: the ``[liquidation]`` profile variants.

Rules: see spec/liquidation.md.
"""
