from __future__ import annotations

from fractions import Fraction

import pytest
from perpspec.units import format_fraction, format_units, parse_fraction, parse_units


@pytest.mark.rule("UNT-DEC-01")
def test_parse_exact_decimals() -> None:
    assert parse_fraction("0.65%") == Fraction(65, 10000)
    assert parse_fraction("-1_535_443.01", separators=True) == Fraction(-153544301, 100)
    assert parse_units("32481.98", 2) == 3248198
    assert parse_units("0.4%", 8) == 400000
    assert parse_units(5, 3) == 5000


@pytest.mark.rule("UNT-DEC-01")
@pytest.mark.parametrize("bad", ["1e5", "", "abc", "1.2.3", "0x10"])
def test_rejects_non_decimals(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_fraction(bad)


@pytest.mark.rule("UNT-DEC-01")
def test_rejects_inexact_and_floats() -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        parse_units("0.001", 2)
    with pytest.raises(ValueError):
        parse_fraction(0.5)  # type: ignore[arg-type]


def test_format() -> None:
    assert format_units(2631689326, 5) == "26316.89326"
    assert format_units(-100, 2) == "-1"
    assert format_fraction(Fraction(1, 3), 6) == "0.333333..."
    assert format_fraction(Fraction(-1, 8)) == "-0.125"


@pytest.mark.rule("UNT-DEC-01")
@pytest.mark.parametrize(
    "bad", ["\u0661", "\uff11\uff12", " 1", "1 ", "1_0", "1._5", "_1", "1__0", "1_", "+1.5_"]
)
def test_plain_decimals_only_ascii_digits(bad: str) -> None:
    """Events and snapshots: plain ASCII decimals (no Unicode digits, spaces or separators)."""
    with pytest.raises(ValueError):
        parse_units(bad, 3)
    with pytest.raises(ValueError):
        parse_fraction(bad)


@pytest.mark.rule("UNT-DEC-01")
def test_profile_decimals_allow_underscores_between_digits() -> None:
    assert parse_fraction("1_000.000_5", separators=True) == Fraction(10000005, 10000)
    assert parse_units("1_000", 2, separators=True) == 100000
    for bad in ("\u0661", " 1", "_1", "1__0", "1_", "1_.5"):
        with pytest.raises(ValueError):
            parse_fraction(bad, separators=True)
