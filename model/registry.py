"""Variants are data: each mechanism's variants are registered by name.

A profile selects one variant per mechanism with a ``model = "name"`` key; the loader
looks the name up here and structures the rest of the table into that variant's frozen
attrs parameter class. There is no ``if venue == ...`` anywhere: adding a venue is adding
a TOML file, adding a mechanism variant is adding a class and one ``@variant`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T", bound=type)

#: mechanism -> variant name -> parameter class
VARIANTS: dict[str, dict[str, type]] = {}


def variant(mechanism: str, name: str) -> Callable[[T], T]:
    """Class decorator registering a parameter class as variant ``name`` of ``mechanism``."""

    def register(cls: T) -> T:
        table = VARIANTS.setdefault(mechanism, {})
        if name in table and table[name] is not cls:
            raise ValueError(f"variant {mechanism}/{name} registered twice")
        table[name] = cls
        cls.variant_name = name  # type: ignore[attr-defined]
        return cls

    return register


def variants_of(mechanism: str) -> dict[str, type]:
    """The registered variants of a mechanism (imports the built-in ones first)."""
    from perpspec import builtin_variants  # noqa: F401  (registers on import)

    return VARIANTS.get(mechanism, {})
