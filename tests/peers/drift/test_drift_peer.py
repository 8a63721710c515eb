"""Agreement with Drift's own program on the drift-v2 profile (issue 8 item 1).

The comparison needs the peer environment (README, "Drift peer"); without
``PERPSPEC_DRIFT_PEER`` it is skipped with a message saying how to run it. The harness tests
below it run everywhere, so that the drawing and the perpspec side cannot rot unseen.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("drift_compare", Path(__file__).with_name("compare.py"))
assert _spec is not None and _spec.loader is not None
compare = importlib.util.module_from_spec(_spec)
sys.modules["drift_compare"] = compare
_spec.loader.exec_module(compare)

ACCOUNTS = int(os.environ.get("PERPSPEC_DRIFT_ACCOUNTS", "10000"))


@pytest.mark.rule("ACC-COL-01", "PNL-LIN-02", "PNL-NOT-02", "MRG-DRF-02", "MRG-DRF-03", "MRG-DRF-05")
def test_agreement_with_drifts_program() -> None:
    """>= 10,000 random accounts: initial and maintenance total collateral and margin
    requirement bit-exact against ``math_calculate_margin_requirement_and_total_collateral_and_
    liability_info``; 2,000 ``get_margin_ratio`` calls (all types, normal and HLM)."""
    try:
        report = compare.run(accounts=ACCOUNTS, seed=1, ratios=2_000)
    except compare.PeerAbsent as exc:
        pytest.skip(f"Drift peer: {exc}")
    assert report.accounts == ACCOUNTS and report.ratios == 2_000
    assert report.ok(), "\n".join(report.lines())


@pytest.mark.rule("ACC-SNAP-01", "ACC-COL-01")
def test_harness_figures_of_a_known_account() -> None:
    """The perpspec side of the harness on the account of the ACC-COL-01 example (the program
    gives initial [1,100, 12.345678], maintenance [1,113.456789, 6.172839])."""
    prof = compare.comparison_profile()
    drawn = compare.Drawn(1000 * 10**6, [(0, 10**9, -10 * 10**6)], {0: 123_456_789, 1: 1, 2: 1, 3: 1})
    p_i, p_m, _ = compare.perpspec_figures(drawn, prof)
    assert (p_i, p_m) == ([1_100_000_000, 12_345_678], [1_113_456_789, 6_172_839])


@pytest.mark.rule("ACC-SNAP-01")
def test_harness_draws_the_promised_accounts() -> None:
    """1 to 4 positions in distinct markets, |base| within [1e-9, 2e6] base, uPnL of both signs
    and above $100 among them; each drawn account round-trips through a snapshot."""
    rng = random.Random(7)
    prof = compare.comparison_profile()
    counts, big, neg = set(), 0, 0
    for _ in range(300):
        d = compare.draw(rng)
        idx = [i for i, _b, _q in d.positions]
        assert len(set(idx)) == len(idx) and 1 <= len(idx) <= 4
        counts.add(len(idx))
        for i, b, q in d.positions:
            assert 1 <= abs(b) <= 2 * 10**15
            upnl = (b * d.prices[i] // 10**9 if b > 0 else -((-b * d.prices[i]) // 10**9)) + q
            big += upnl > 100 * 10**6
            neg += upnl < 0
        _, _, acct = compare.perpspec_figures(d, prof)
        assert len(acct.positions) == len(idx)
        assert json.loads(compare.snapshot_text(d))["positions"][0]["symbol"] in compare.SYMBOLS
    assert counts == {1, 2, 3, 4} and big > 50 and neg > 50


@pytest.mark.rule("ACC-COL-01")
def test_skips_with_a_clear_message_without_the_peer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(compare.ENV, raising=False)
    with pytest.raises(compare.PeerAbsent, match="PERPSPEC_DRIFT_PEER"):
        compare.peer_python()
    with pytest.raises(compare.PeerAbsent, match=r"no .*python"):
        compare.peer_python(str(tmp_path / "missing-venv"))
