"""Imports every proof module so that its ``@proof`` functions register (see framework.all_proofs)."""

from __future__ import annotations

from perpspec.proofs import (
    funding,  # noqa: F401
    liquidation,  # noqa: F401
    margin,  # noqa: F401
    numeric_core,  # noqa: F401
)
