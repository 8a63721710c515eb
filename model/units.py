"""Units at the boundary: exact decimal strings <-> integers in explicit units.

Published venue examples and user files give decimal numbers (``"32481.98"``,
``"0.65%"``). They are converted to integers once, at the boundary, with the scale the
profile states, and an amount that does not fit the scale exactly is an error, never a
silent rounding. Formulas never see a decimal string or a float.

Rules: UNT-DEC-01 (decimal boundary conversion), EVT-LIM-01 (at most 64 digits).
"""

from __future__ import annotations

import re
from fractions import Fraction

from perpspec.traceability import implements

#: Rates (margin rates, fee rates, funding rates) are integers in units of 10^-8.
RATE_DECIMALS = 8
RATE_ONE = 10**RATE_DECIMALS

#: The most digits a number read from input may have (rule EVT-LIM-01): every amount and
#: integer of an event, expect record, snapshot, profile or scenario is below 10^64 in
#: magnitude, counting every digit written (leading zeros and decimals included).
MAX_DIGITS = 64

# ASCII digits only ([0-9] with re.ASCII: no Unicode digits such as "\u0661"); no spaces
_DECIMAL = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?(%?)", re.ASCII)
# profiles (TOML): "_" allowed between two digits, as in TOML's own numbers ("1_000_000")
_DECIMAL_SEP = re.compile(r"([+-]?)([0-9]+(?:_[0-9]+)*)(?:\.([0-9]+(?:_[0-9]+)*))?(%?)", re.ASCII)


@implements("UNT-DEC-01")
def parse_fraction(text: str, separators: bool = False) -> Fraction:
    """Rule UNT-DEC-01: an exact decimal string (optionally ending in ``%``) as a Fraction.

    Accepts ``"123"``, ``"-0.5"``, ``"0.65%"``: ASCII digits ``[0-9]`` only, no spaces. With
    ``separators`` (profile files only) a ``_`` between two digits is allowed
    (``"1_000_000"``). Rejects exponent notation, empty strings, Unicode digits, surrounding
    spaces and anything else with :class:`ValueError`.
    """
    if not isinstance(text, str):
        raise ValueError(f'expected a decimal string such as "0.5", got {type(text).__name__}')
    m = (_DECIMAL_SEP if separators else _DECIMAL).fullmatch(text)
    if m is None:
        raise ValueError(f'expected a decimal string such as "12.5" or "0.65%", got {text!r}')
    sign, whole, frac, pct = m.groups()
    digits = len(whole) + len(frac or "") - (whole.count("_") + (frac or "").count("_") if separators else 0)
    if digits > MAX_DIGITS:
        raise ValueError(f"{digits} digits; at most {MAX_DIGITS} are accepted (rule EVT-LIM-01)")
    if separators:
        whole, frac = whole.replace("_", ""), (frac or "").replace("_", "")
    value = Fraction(int(whole + (frac or "")), 10 ** len(frac or ""))
    if pct:
        value /= 100
    return -value if sign == "-" else value


def to_units(value: Fraction | int, decimals: int) -> int:
    """An exact value as an integer count of ``10^-decimals`` units; inexact is an error."""
    scaled = Fraction(value) * 10**decimals
    if scaled.denominator != 1:
        raise ValueError(f"{format_fraction(Fraction(value))} is not a whole number of 10^-{decimals} units")
    return scaled.numerator


@implements("UNT-DEC-01")
def parse_units(text: str | int, decimals: int, separators: bool = False) -> int:
    """Rule UNT-DEC-01: a decimal string (or an int, taken as whole units) as an integer of
    ``10^-decimals``. Plain ASCII decimals (events, snapshots); ``separators`` also allows
    ``_`` between digits (profile files), as :func:`parse_fraction`."""
    if type(text) is str and type(decimals) is int:
        fast = plain_units(text, decimals)
        if fast is not None:
            return fast
    if isinstance(text, bool):
        raise ValueError("expected a decimal string, got a boolean")
    if isinstance(text, int):
        if not -(10**MAX_DIGITS) < text < 10**MAX_DIGITS:
            raise ValueError(f"an integer of more than {MAX_DIGITS} digits (rule EVT-LIM-01)")
        return text * 10**decimals
    return to_units(parse_fraction(text, separators), decimals)


def plain_units(text: str, decimals: int) -> int | None:
    """Rule UNT-DEC-01: the fast path of :func:`parse_units` for an unsigned plain ASCII
    decimal that fits the scale (``"123"``, ``"0.065"``): the same integer, without a regex
    or a Fraction; ``None`` for anything else (then :func:`parse_units` decides)."""
    whole, dot, frac = text.partition(".")
    if (
        len(text) <= MAX_DIGITS
        and whole.isascii()
        and whole.isdigit()
        and len(frac) <= decimals
        and (not dot or (frac.isascii() and frac.isdigit()))
    ):
        return int(whole + frac) * 10 ** (decimals - len(frac))
    return None


def format_units(amount: int, decimals: int) -> str:
    """An integer of ``10^-decimals`` units as an exact decimal string (no trailing zeros)."""
    return format_fraction(Fraction(amount, 10**decimals))


def format_fraction(value: Fraction, max_decimals: int | None = None) -> str:
    """An exact rational as a decimal string.

    Terminating decimals are printed exactly without trailing zeros. A non-terminating
    value is printed with ``max_decimals`` digits (default 12) and a trailing ``...``, so
    the reader sees it is cut.
    """
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole, rest = divmod(value.numerator, value.denominator)
    if rest == 0:
        return f"{sign}{whole}"
    limit = 12 if max_decimals is None else max_decimals
    digits = []
    for _ in range(limit):
        rest *= 10
        d, rest = divmod(rest, value.denominator)
        digits.append(str(d))
        if rest == 0:
            break
    text = "".join(digits).rstrip("0") if rest == 0 else "".join(digits)
    tail = "" if rest == 0 else "..."
    return f"{sign}{whole}.{text}{tail}" if text else f"{sign}{whole}{tail}"


def rate_to_fraction(rate: int) -> Fraction:
    """A rate in 10^-8 units as an exact Fraction."""
    return Fraction(rate, RATE_ONE)
