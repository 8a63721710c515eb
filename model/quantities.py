"""Typed integer quantities used in profile parameters and state.

Each is a plain ``int`` at run time (fast, works with Z3), typed for the reader and for
the profile loader, which converts the decimal strings of a TOML file into these units
with the profile's scales (rule UNT-DEC-01) and refuses anything inexact.

- ``Price``: price units, ``10^-price_decimals`` quote per base (linear) or USD per coin (inverse).
- ``Size``: size units, ``10^-size_decimals`` base (linear) or contracts (inverse).
- ``Money``: money units, ``10^-money_decimals`` of the settlement asset.
- ``Rate``: ``10^-8`` (:data:`perpspec.units.RATE_DECIMALS`).
- ``Exact``: an exact rational, for parameters defined on rationals only.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NewType

Price = NewType("Price", int)
Size = NewType("Size", int)
Money = NewType("Money", int)
Rate = NewType("Rate", int)
Exact = NewType("Exact", Fraction)
