"""Import every built-in variant module so that its ``@variant`` registrations run.

Every module inside the mechanism packages listed in :data:`PACKAGES` is imported, and the
single modules in :data:`MODULES`; a new variant is a new module in a package, nothing else
to edit.
"""

from __future__ import annotations

import importlib
import pkgutil

PACKAGES = ("perpspec.margin", "perpspec.liquidation", "perpspec.funding", "perpspec.pricing")
#: Single modules that register variants too.
MODULES = ("perpspec.fees",)

for _pkg_name in PACKAGES:
    try:
        _pkg = importlib.import_module(_pkg_name)
    except ModuleNotFoundError as _exc:
        if _exc.name != _pkg_name:
            raise
        continue
    for _info in sorted(pkgutil.iter_modules(_pkg.__path__), key=lambda m: m.name):
        importlib.import_module(f"{_pkg_name}.{_info.name}")

for _name in MODULES:
    importlib.import_module(_name)
