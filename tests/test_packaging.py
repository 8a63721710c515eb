"""The wheel ships every subpackage and the data the CLI needs (design §2: pip install ., not only -e)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def declared_packages() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return set(data["tool"]["setuptools"]["packages"])


def test_every_subpackage_is_declared() -> None:
    found = set()
    for top, name in (("model", "perpspec"), ("proofs", "perpspec.proofs")):
        for path in (ROOT / top).rglob("*"):
            # code packages, and data-only folders (profiles, examples) that ship with the wheel
            if path.name == "__init__.py" or path.suffix in (".toml", ".json", ".jsonl"):
                rel = path.parent.relative_to(ROOT / top)
                found.add(".".join([name, *rel.parts]) if rel.parts else name)
    missing = found - declared_packages()
    assert not missing, f"packages missing from pyproject [tool.setuptools] packages: {sorted(missing)}"


def test_bundled_profiles_are_package_data() -> None:
    import perpspec.profiles as profiles

    folder = Path(profiles.__file__).parent
    assert sorted(p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("*.toml")))
