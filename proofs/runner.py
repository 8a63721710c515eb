"""``perpspec prove``: run the proofs, print a table, write the results as JSON.

Exit code: 1 if any proof has a ``counterexample`` or could not be built (``error``);
0 otherwise. A solver ``unknown`` (timeout) is reported in the table and the JSON but is
not a failure: it says "not proved within the bounds and time", never "false", and a slow
machine must not turn CI red. Raise ``--timeout`` to retry it. ``n/a`` (the subject gives
the proof nothing to check) is not a failure either.

The JSON file is deterministic (sorted keys, results in proof then subject order) except
for the run times, which are kept apart in ``run_times_ms`` so that two runs can be diffed
after dropping that one field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from perpspec.errors import InputError, Place
from perpspec.outfiles import prepare_parent, write_file
from perpspec.proofs.framework import ProofResult, ProofSpec, all_proofs, run_all, select
from perpspec.terminal import out_console, progress_bar
from rich.console import Console
from rich.table import Table
from rich.text import Text

SCHEMA_VERSION = 1

_STYLE = {
    "proved": "green", "counterexample": "bold red", "unknown": "yellow", "error": "bold red", "n/a": "dim",
}
_ORDER = ("proved", "counterexample", "unknown", "error", "n/a")


def result_key(r: ProofResult) -> str:
    """The key of a result in ``run_times_ms``: ``"<proof ID> <subject>"``."""
    return f"{r.proof_id} {r.subject}"


def catalog(specs: Sequence[ProofSpec]) -> dict[str, Any]:
    """The proofs' static descriptions (ID -> title, rules, bounds, timeout, docstring)."""
    return {
        s.id: {"title": s.title, "rules": list(s.rules), "bounds": s.bounds, "timeout_s": s.timeout_s,
               "fast": s.fast, "doc": s.doc}
        for s in specs
    }


def to_json(
    results: Sequence[ProofResult], specs: Sequence[ProofSpec], timeout: int, only: str | None
) -> bytes:
    """The JSON document ``perpspec prove --json`` writes."""
    summary: Counter[str] = Counter(r.status for r in results)
    doc = {
        "schema": SCHEMA_VERSION,
        "tool": "perpspec prove",
        "timeout_s": timeout,
        "only": only,
        "summary": {k: summary.get(k, 0) for k in _ORDER},
        "ok": not any(r.failed for r in results),
        "proofs": catalog(specs),
        "results": [r.as_dict() for r in results],
        "run_times_ms": {result_key(r): r.time_ms for r in results},
    }
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def print_table(results: Sequence[ProofResult], console: Console) -> None:
    """The results as a rich table, then the counterexamples and errors in full."""
    table = Table(title="perpspec prove")
    table.add_column("proof", no_wrap=True)
    table.add_column("profile/market", overflow="fold")
    table.add_column("status", overflow="fold")
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("bounds", overflow="fold", ratio=1)
    for r in results:
        status = r.status if not r.failed_claim else f"{r.status} ({r.failed_claim})"
        cells = (Text(r.proof_id), Text(r.subject), Text(status, _STYLE[r.status]))
        table.add_row(*cells, f"{r.time_ms} ms", Text(r.bounds))
    console.print(table)
    for r in results:
        if r.status == "proved":
            continue
        head = Text(f"{r.proof_id} {r.subject}: {r.status}", _STYLE[r.status])
        console.print(Text.assemble(head, f" — {r.title}"), highlight=False)
        if r.failed_claim:
            console.print(Text(f"  claim: {r.failed_claim}"), highlight=False)
        for name, value in r.counterexample.items():
            console.print(Text(f"  {name} = {value}"), highlight=False)
        if r.reason:
            console.print(Text(f"  {r.reason}"), highlight=False)


def run_proofs(json_out: Path | None, only: str | None, timeout: int, fast_only: bool = False) -> int:
    """Run the proofs (those whose ID contains ``only``), print, optionally write JSON; exit code."""
    if timeout < 1:
        raise InputError(Place("--timeout"), f"the solver timeout must be at least 1 second, got {timeout}")
    specs = select(all_proofs(), only, fast_only)
    if not specs:
        known = ", ".join(s.id for s in all_proofs())
        raise InputError(Place("--only"), f"no proof ID contains {only!r}; the proofs are: {known}")
    if json_out is not None:
        prepare_parent(json_out, "--json")  # a bad path fails before the proofs run
    with progress_bar("prove", None, "proofs") as bar:
        results = run_all(only, timeout, fast_only, on_result=lambda n: bar.update(n, n))
    console = out_console()
    print_table(results, console)
    counts: Counter[str] = Counter(r.status for r in results)
    console.print(", ".join(f"{counts[k]} {k}" for k in _ORDER))
    if json_out is not None:
        write_file(json_out, to_json(results, specs, timeout, only), "--json")
    return 1 if any(r.failed for r in results) else 0
