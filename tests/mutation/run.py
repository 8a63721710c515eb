"""Opt-in mutation testing of one perpspec module with mutmut 3 (issue 8 section 5).

mutmut 3 mutates the files under ``./``, ``src/`` or ``source/`` and derives each mutant's module
name from its path, so it cannot follow our ``package-dir`` mapping (``perpspec`` -> ``model/``,
``perpspec.proofs`` -> ``proofs/``). This script builds a staging tree in the ``src/`` layout that
mutmut understands and runs mutmut there, on ONE module, against the tests of that module only::

    STAGE/src/perpspec/         copy of model/
    STAGE/src/perpspec/proofs/  copy of proofs/
    STAGE/tests/                copy of tests/
    STAGE/spec/                 copy of spec/ (some tests read rule files)
    STAGE/pyproject.toml        [tool.mutmut] + [tool.pytest.ini_options] for that module

In the staged copy of the mutated module the one-line ``@implements(...)`` decorators are dropped
(mutmut 3 skips decorated functions; ``implements`` returns the function itself, so this changes
no behaviour). mutmut puts ``mutants/src`` first on ``sys.path``, so the tests import the mutated copy (the
editable install's finder comes after the path finder). Usage, from the repository root, with
mutmut installed in the venv (``pip install 'mutmut>=3.8,<4'``)::

    nice -n 19 python tests/mutation/run.py numeric            # model/numeric.py
    nice -n 19 python tests/mutation/run.py margin/brackets --stage /tmp/mut-brackets
    python tests/mutation/run.py --list                        # modules and their test files

It prints mutmut's summary and the survivors, and writes ``survivors.txt`` in the stage. The known
equivalent mutants are listed in ``tests/mutation/equivalent.md``. This file is not collected by
pytest (its name does not match ``test_*.py``) and the default CI never runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPLEMENTS = re.compile(r"^\s*@implements\(.*\)\s*$")

#: module (relative to model/, without .py) -> the test files that exercise it
TESTS: dict[str, list[str]] = {
    "numeric": ["tests/test_numeric.py", "tests/test_numeric_edges.py"],
    "margin/brackets": [
        "tests/margin/test_margin_brackets.py",
        "tests/margin/test_margin_brackets_edges.py",
    ],
    "position": ["tests/position/test_position_pnl.py", "tests/position/test_position_fields.py"],
    "account": ["tests/account/test_account_margin.py", "tests/account/test_drift_collateral.py"],
    "fees": ["tests/test_fees.py"],
}


def _stage(module: str, stage: Path, tests: list[str]) -> None:
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "src").mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "model", stage / "src" / "perpspec", ignore=ignore)
    shutil.copytree(ROOT / "proofs", stage / "src" / "perpspec" / "proofs", ignore=ignore)
    shutil.copytree(ROOT / "tests", stage / "tests", ignore=ignore)
    shutil.copytree(ROOT / "spec", stage / "spec", ignore=ignore)
    # mutmut 3 does not mutate decorated functions (other than staticmethod/classmethod), and
    # most formulas carry @implements("RULE-ID"), which records the claim and returns the
    # function itself (no wrapper). Drop those one-line decorators in the staged copy of the
    # mutated module so that its formulas are mutated too; behaviour is unchanged.
    target = stage / "src" / "perpspec" / f"{module}.py"
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text("".join(ln for ln in lines if not IMPLEMENTS.match(ln)), encoding="utf-8")
    quoted = ", ".join(f'"{t}"' for t in tests)
    (stage / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f'only_mutate = ["src/perpspec/{module}.py"]\n'
        'also_copy = ["spec"]\n'
        f"pytest_add_cli_args_test_selection = [{quoted}]\n"
        "\n[tool.pytest.ini_options]\n"
        'addopts = "-q -p no:cacheprovider --import-mode=importlib"\n'
        "markers = [\n"
        '    "rule(*ids): the spec rule IDs this test checks",\n'
        '    "slow: long-running (opt-in with PERPSPEC_LONG=1)",\n'
        "]\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("module", nargs="?", help="module under model/, e.g. numeric or margin/brackets")
    parser.add_argument("--stage", type=Path, help="staging directory (default: a fresh temp dir)")
    parser.add_argument("--max-children", type=int, default=1, help="parallel mutant workers (default 1)")
    parser.add_argument("--tests", nargs="+", help="test files to use instead of the module's list")
    parser.add_argument("--list", action="store_true", help="list the modules and their tests")
    args = parser.parse_args(argv)
    if args.list or not args.module:
        for module, tests in TESTS.items():
            print(f"{module:16} {' '.join(tests)}")
        return 0
    if args.module not in TESTS:
        print(f"unknown module {args.module!r}; known: {', '.join(TESTS)}", file=sys.stderr)
        return 2
    stage = args.stage or Path(tempfile.mkdtemp(prefix="perpspec-mutation-"))
    _stage(args.module, stage, args.tests or TESTS[args.module])
    env = dict(os.environ, PYTHONHASHSEED="0")
    mutmut = [sys.executable, "-m", "mutmut"]
    started = time.monotonic()
    rc = subprocess.call([*mutmut, "run", "--max-children", str(args.max_children)], cwd=stage, env=env)
    elapsed = time.monotonic() - started
    results = subprocess.run([*mutmut, "results"], cwd=stage, env=env, capture_output=True, text=True)
    (stage / "survivors.txt").write_text(results.stdout, encoding="utf-8")
    print(results.stdout)
    subprocess.run([*mutmut, "export-cicd-stats"], cwd=stage, env=env, capture_output=True)
    stats_file = stage / "mutants" / "mutmut-cicd-stats.json"
    if stats_file.exists():
        st = json.loads(stats_file.read_text(encoding="utf-8"))
        caught = st["killed"] + st["timeout"] + st["segfault"]
        print(
            f"{args.module}: {st['total']} mutants, killed {st['killed']}, survived {st['survived']}, "
            f"no tests {st['no_tests']}, timeout {st['timeout']}, suspicious {st['suspicious']}; "
            f"score {100 * caught / max(st['total'], 1):.1f}% (before subtracting equivalent mutants)"
        )
    print(f"stage: {stage}  elapsed: {elapsed:.0f} s  mutmut exit: {rc}")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
