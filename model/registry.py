"""Variants are data: each mechanism's variants are registered by name.

A profile selects one variant per mechanism with a ``model = "name"`` key; the loader
looks the name up here and structures the rest of the table into that variant's frozen
attrs parameter class. There is no ``if venue == ...`` anywhere: adding a venue is adding
a TOML file, adding a mechanism variant is adding a class and one ``@variant`` line.

Each mechanism has one declared interface (:func:`interface`): a base class listing every
capability the engine, the account and liquidation functions and the proofs may use, each
optional one with its documented default. A variant subclasses its mechanism's interface
(checked when it registers), so code calls declared methods and reads declared attributes only;
nothing probes a variant with ``hasattr``/``getattr`` (tests/test_no_probing.py).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar, TypeVar

T = TypeVar("T", bound=type)
V = TypeVar("V", bound="type[Variant]")

#: mechanism -> variant name -> parameter class
VARIANTS: dict[str, dict[str, type]] = {}
#: mechanism -> its declared interface (the base class every variant of it subclasses)
INTERFACES: dict[str, type] = {}


class Variant(abc.ABC):  # noqa: B024 (the mechanism interfaces declare the abstract methods)
    """What every variant of every mechanism has: its registered name and a semantic check.

    An abstract base: the capabilities an interface requires are ``abc.abstractmethod`` s, so a
    variant that misses one cannot be instantiated (and mypy reports it where it is built)."""

    __slots__ = ()

    #: the name the variant is registered under (set by :func:`variant`; "" if unregistered)
    variant_name: ClassVar[str] = ""

    def check(self) -> list[tuple[str, str]]:
        """Semantic checks of the parameters beyond their types: ``(field, message)`` pairs
        (the profile loader and ``param_change`` run them). Default: none."""
        return []


def interface(mechanism: str) -> Callable[[T], T]:
    """Class decorator declaring ``cls`` the interface of ``mechanism`` (one per mechanism)."""

    def declare(cls: T) -> T:
        if INTERFACES.get(mechanism, cls) is not cls:
            raise ValueError(f"mechanism {mechanism} declared twice")
        INTERFACES[mechanism] = cls
        return cls

    return declare


def variant(mechanism: str, name: str) -> Callable[[V], V]:
    """Class decorator registering a parameter class as variant ``name`` of ``mechanism``."""

    def register(cls: V) -> V:
        base = INTERFACES.get(mechanism)
        if base is None or not issubclass(cls, base):
            raise TypeError(
                f"variant {mechanism}/{name}: {cls.__name__} must subclass the interface of "
                f"mechanism {mechanism} ({base.__name__ if base else 'none declared'})"
            )
        table = VARIANTS.setdefault(mechanism, {})
        if name in table and table[name] is not cls:
            raise ValueError(f"variant {mechanism}/{name} registered twice")
        table[name] = cls
        cls.variant_name = name
        return cls

    return register


def variants_of(mechanism: str) -> dict[str, type]:
    """The registered variants of a mechanism (imports the built-in ones first)."""
    from perpspec import builtin_variants  # noqa: F401  (registers on import)

    return VARIANTS.get(mechanism, {})
