"""The model and the proofs are exact: no float literal and no float() anywhere (design §3)."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def float_uses(path: Path) -> list[str]:
    found = []
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline))
    for i, tok in enumerate(tokens):
        if (
            tok.type == tokenize.NUMBER
            and any(c in tok.string.lower() for c in ".ej")
            and not tok.string.lower().startswith("0x")
        ):
            found.append(f"{path.relative_to(ROOT)}:{tok.start[0]}: float literal {tok.string}")
        if tok.type == tokenize.NAME and tok.string == "float":
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.string == "(":
                found.append(f"{path.relative_to(ROOT)}:{tok.start[0]}: float(...) call")
    return found


def test_no_floats_in_model_or_proofs() -> None:
    allowed: set[str] = set()
    files = [p for d in ("model", "proofs") for p in sorted((ROOT / d).rglob("*.py"))]
    assert files
    problems = [u for p in files if str(p.relative_to(ROOT)) not in allowed for u in float_uses(p)]
    assert not problems, "\n".join(problems)


def test_detector_finds_floats(tmp_path: Path) -> None:
    bad = ROOT / "tests" / "_float_probe.py"
    try:
        bad.write_text("x = 0.5\ny = float('1')\nz = 1e3\n")
        assert len(float_uses(bad)) == 3
    finally:
        bad.unlink()
