"""The proof framework and the fast subset of proofs: proofs pass on the bundled tables and
FAIL (with a counterexample naming the tier) on deliberately broken tables built here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs
import orjson
import perpspec.proofs.catalog  # noqa: F401  (registers every proof: REGISTRY[...] works when this file runs alone)
import pytest
from perpspec.cli import app
from perpspec.funding import Contract, Settlement, owed_fraction, settle_owed
from perpspec.margin import LinearTier, MarginModel, PositionRisk
from perpspec.margin.bitmex import BitmexRiskSteps
from perpspec.margin.brackets import BinanceBrackets, Bracket
from perpspec.margin.flat import FlatMargin
from perpspec.margin.piecewise import select
from perpspec.numeric import Rounding, Term, div_round, ite
from perpspec.profile import ContractKind
from perpspec.proofs.framework import REGISTRY, all_proofs, run_all, run_proof
from perpspec.proofs.runner import run_proofs
from perpspec.proofs.subjects import funding_subject, margin_subject
from perpspec.units import RATE_ONE, parse_units
from typer.testing import CliRunner

USDT = 8  # money decimals of the test tables


def usdt(text: str) -> int:
    return parse_units(text, USDT)


def rate(text: str) -> int:
    return parse_units(text, 8)


@attrs.frozen
class MistypedTable(MarginModel):
    """A tiered table whose deductions are typed by hand, not derived: tier 1's is too large,
    so MM drops by 250 USDT when the notional crosses 50,000 USDT (non-monotone, discontinuous)."""

    floors: tuple[int, ...]
    rates: tuple[int, ...]
    deductions: tuple[int, ...]  # money units x RATE_ONE

    def maintenance_tiers(self) -> tuple[LinearTier, ...]:
        from fractions import Fraction

        ups = (*self.floors[1:], None)
        return tuple(
            LinearTier(f, u, Fraction(r, RATE_ONE), Fraction(d, RATE_ONE))
            for f, u, r, d in zip(self.floors, ups, self.rates, self.deductions, strict=True)
        )

    def maintenance(self, pos: PositionRisk) -> Term:
        pieces = [pos.notional * r - d for r, d in zip(self.rates, self.deductions, strict=True)]
        scaled = select(pos.notional, self.floors, pieces)
        return div_round(scaled, RATE_ONE, Rounding.CEIL)

    def initial(self, pos: PositionRisk) -> Term:
        return div_round(pos.notional, 20, Rounding.CEIL)


def binance_2021() -> BinanceBrackets:
    """BTCUSDT 2021 brackets (reference cex-venues §1.1: floor, MMR, max leverage)."""
    rows = [("0", "0.4%", 125), ("50000", "0.5%", 100), ("250000", "1%", 50), ("1000000", "2.5%", 20),
            ("10000000", "5%", 10), ("20000000", "10%", 5), ("50000000", "12.5%", 4),
            ("100000000", "15%", 3), ("200000000", "25%", 2), ("300000000", "50%", 1)]
    return BinanceBrackets(tuple(Bracket(usdt(f), rate(r), lev) for f, r, lev in rows))


def test_registry_has_the_proofs() -> None:
    ids = {s.id for s in all_proofs()}
    assert {"PRF-RND-01", "PRF-RND-02", "PRF-RND-03", "PRF-RND-04", "PRF-RND-05", "PRF-RND-06",
            "PRF-MRG-01", "PRF-MRG-02", "PRF-MRG-03", "PRF-MRG-04", "PRF-FND-01"} <= ids
    for s in all_proofs():
        assert s.rules and s.bounds, s.id
        assert f"Rules: {', '.join(s.rules)}" in s.doc or all(r in s.doc for r in s.rules), s.id


@pytest.mark.rule("RND-DIV-01", "RND-DIV-02", "INV-20")
def test_fast_subset_proved() -> None:
    """The fast proofs hold: the numeric core, and MM monotone on every bundled table."""
    results = run_all(timeout_s=30, fast_only=True)
    assert results
    assert {r.proof_id for r in results} >= {"PRF-RND-01", "PRF-RND-02", "PRF-MRG-01"}
    bad = [f"{r.proof_id} {r.subject}: {r.status} {r.failed_claim} {dict(r.counterexample)} {r.reason}"
           for r in results if r.status != "proved"]
    assert not bad, "\n".join(bad)
    # one result per bundled profile/market for the margin proof
    margin = [r for r in results if r.proof_id == "PRF-MRG-01"]
    assert len({r.subject for r in margin}) == len(margin) >= 10


@pytest.mark.rule("RND-DIV-03", "RND-DIV-04", "RND-DIV-05", "RND-TICK-01")
def test_numeric_core_proved() -> None:
    results = run_all(only="PRF-RND", timeout_s=30)
    assert [r.status for r in results] == ["proved"] * 6


@pytest.mark.rule("INV-20", "INV-21", "INV-22", "MRG-BRK-01", "MRG-BRK-03")
def test_binance_2021_table_proved() -> None:
    sub = margin_subject("test", "BTCUSDT", binance_2021(), USDT)
    for pid in ("PRF-MRG-01", "PRF-MRG-02", "PRF-MRG-03"):
        r = run_proof(REGISTRY[pid], sub, 30)
        assert r.status == "proved", (pid, r)
        assert r.claims >= 10  # one claim per bracket (and one without leverage for IM)
        assert "MRG-BRK-01" in r.rules  # the model's own rule IDs are attached


@pytest.mark.rule("INV-20", "INV-21")
def test_broken_table_yields_counterexample() -> None:
    """A hand-typed deduction 250 USDT too large in tier 1: MM falls at 50,000 USDT."""
    good = (0, usdt("50000") * (rate("0.5%") - rate("0.4%")))
    broken = MistypedTable(
        floors=(0, usdt("50000")),
        rates=(rate("0.4%"), rate("0.5%")),
        deductions=(good[0], good[1] + usdt("250") * RATE_ONE),
    )
    sub = margin_subject("test", "BROKEN", broken, USDT)
    mono = run_proof(REGISTRY["PRF-MRG-01"], sub, 30)
    assert mono.status == "counterexample" and mono.failed
    # the step from N to N+1 that falls must cross the boundary: N = 49,999.99999999 USDT
    assert mono.failed_claim == "tier 0 [0, 50000)"
    assert mono.counterexample["N"] == "49999.99999999"
    assert mono.counterexample["MM(N)"] == "200"
    assert mono.counterexample["MM(N+1)"] == "-50"  # 50,000 x 0.5% - (50 + 250)
    cont = run_proof(REGISTRY["PRF-MRG-02"], sub, 30)
    assert cont.status == "counterexample"  # |jump| = 200 USDT far above 1 money unit
    assert cont.failed_claim.startswith("tier")


@pytest.mark.rule("INV-22")
def test_im_below_mm_yields_counterexample_tier() -> None:
    """Max leverage 125 (IM 0.8%) in a 1% MMR bracket: IM < MM; the proof names bracket 1."""
    table = BinanceBrackets((Bracket(0, rate("0.4%"), 125), Bracket(usdt("50000"), rate("1%"), 125)))
    assert table.check()  # the loader would refuse it too
    r = run_proof(REGISTRY["PRF-MRG-03"], margin_subject("test", "BAD", table, USDT), 30)
    assert r.status == "counterexample"
    assert r.failed_claim == "tier 1 [50000, ∞)"
    assert set(r.counterexample) == {"N", "L", "IM", "MM"}


@pytest.mark.rule("INV-22", "MRG-FLAT-01")
def test_flat_imr_below_mmr_yields_counterexample() -> None:
    flat = FlatMargin(mmr=rate("1%"), imr=rate("0.5%"))
    r = run_proof(REGISTRY["PRF-MRG-03"], margin_subject("test", "FLAT", flat, USDT), 30)
    assert r.status == "counterexample"
    assert r.failed_claim == "tier 0 [0, ∞)"  # leverage up to 1/imr = 200: IM 0.5% < MM 1%


def test_json_shape(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "proofs.json"
    code = run_proofs(out, "PRF-RND-0", 20)
    assert code == 0
    doc = orjson.loads(out.read_bytes())
    assert set(doc) == {"schema", "tool", "timeout_s", "only", "summary", "ok", "proofs", "results",
                        "run_times_ms"}
    assert doc["ok"] is True and doc["summary"]["proved"] == 6
    r0 = doc["results"][0]
    assert set(r0) == {"proof", "title", "subject", "profile", "market", "status", "rules", "bounds",
                       "claims", "failed_claim", "counterexample", "reason"}
    assert r0["proof"] == "PRF-RND-01" and r0["status"] == "proved" and r0["rules"] == ["RND-DIV-01"]
    assert set(doc["run_times_ms"]) == {f"{r['proof']} {r['subject']}" for r in doc["results"]}
    # deterministic apart from the run times
    again = tmp_path / "again.json"
    run_proofs(again, "PRF-RND-0", 20)
    second = orjson.loads(again.read_bytes())
    doc.pop("run_times_ms")
    second.pop("run_times_ms")
    assert doc == second


def test_cli_prove_only_fast_id() -> None:
    result = CliRunner().invoke(app, ["prove", "--only", "PRF-RND-01"])
    assert result.exit_code == 0, result.output
    assert "PRF-RND-01" in result.output and "proved" in result.output


def test_cli_prove_unknown_id_is_input_error() -> None:
    result = CliRunner().invoke(app, ["prove", "--only", "NO-SUCH-PROOF"])
    assert result.exit_code == 2


@pytest.mark.rule("LIQ-EQ-01", "LIQ-ORD-01", "LIQ-BIN-02", "LIQ-RND-01", "LIQ-TIER-01", "LIQ-BP-01")
def test_liquidation_proofs_on_binance_2021() -> None:
    from perpspec.liquidation.variants import BinanceClosedForm

    closed_form = BinanceClosedForm()
    sub = margin_subject("test", "BTCUSDT", binance_2021(), USDT, 3, 2, tick=10, liquidation=closed_form)
    eq = run_proof(REGISTRY["PRF-LIQ-01"], sub, 30)
    assert eq.status == "proved" and eq.claims == 10 * 2 * 2  # tiers x sides x (exact, rounded)
    assert "tick 0.1" in eq.bounds
    order = run_proof(REGISTRY["PRF-LIQ-02"], sub, 30)
    assert order.status == "proved" and order.claims == 10 * 2 * 10  # entry tier x side x LP tier


@pytest.mark.rule("LIQ-ORD-01")
def test_lp_after_entry_is_a_counterexample() -> None:
    """125x allowed in a 1% MMR bracket: a position opened at 125x is liquidatable at entry."""
    table = BinanceBrackets((Bracket(0, rate("0.4%"), 125), Bracket(usdt("50000"), rate("1%"), 125)))
    r = run_proof(REGISTRY["PRF-LIQ-02"], margin_subject("test", "BAD", table, USDT), 30)
    assert r.status == "counterexample"
    assert "entry tier 1" in r.failed_claim
    assert set(r.counterexample) == {"Q", "EP", "L", "LP", "BP"}


def test_no_claims_is_not_applicable() -> None:
    """A table that states no max leverage gives PRF-LIQ-02 nothing to check: n/a, not proved."""
    from perpspec.margin.bybit import BybitProgressive, ProgressiveTier

    table = BybitProgressive((ProgressiveTier(0, rate("0.5%")),))
    r = run_proof(REGISTRY["PRF-LIQ-02"], margin_subject("test", "NOCAP", table, USDT), 30)
    assert r.status == "n/a" and not r.failed


# --------------------------------------------------------------------------- BitMEX risk steps


def xbt(text: str) -> int:
    return parse_units(text, 8)  # satoshi


@attrs.frozen
class SteppedRates(MarginModel):
    """A BitMEX-style step model (the bundled model's steps, initial margin and limits) whose MM
    rate per step is read from a hand-typed table (the last entry repeats): a table that lowers
    the rate at some step breaks INV-23."""

    inner: BitmexRiskSteps
    mm_rates: tuple[int, ...]

    @property
    def base_risk_limit(self) -> int:
        return int(self.inner.base_risk_limit)

    @property
    def step(self) -> int:
        return int(self.inner.step)

    def risk_limit_steps(self) -> tuple[int, int] | None:
        return self.inner.risk_limit_steps()

    def steps(self, value: Term) -> Term:
        return self.inner.steps(value)

    def im_rate(self, value: Term) -> Term:
        return self.inner.im_rate(value)

    def mm_rate(self, value: Term) -> Term:
        k = self.steps(value)
        out: Term = self.mm_rates[-1]
        for i in reversed(range(len(self.mm_rates) - 1)):
            out = ite(k == i, self.mm_rates[i], out)
        return out

    def maintenance(self, pos: PositionRisk) -> Term:
        return div_round(pos.notional * self.mm_rate(pos.notional), RATE_ONE, Rounding.CEIL)

    def initial(self, pos: PositionRisk) -> Term:
        return self.inner.initial(pos)


def xbtusd_steps(base_mm: str = "0.4%", base_im: str = "1%") -> BitmexRiskSteps:
    """XBTUSD risk limits (reference cex-venues §2.3: base 200 XBT, step 100 XBT, 0.40%/1.00%)."""
    return BitmexRiskSteps(xbt("200"), xbt("100"), rate(base_mm), rate(base_im))


@pytest.mark.rule("INV-20", "INV-22", "INV-23", "MRG-BMX-01", "MRG-BMX-02")
def test_bitmex_steps_small_k_proved() -> None:
    """Base rates 10%/50%: the initial rate passes 100% after K = 5 steps (50% + 5 x 10%), so
    the proof covers values up to 200 + 5 x 100 = 700 XBT: 6 steps x 2 claims + 5 boundaries."""
    sub = margin_subject("test", "XBTUSD", xbtusd_steps("10%", "50%"), 8)
    r = run_proof(REGISTRY["PRF-MRG-04"], sub, 30)
    assert r.status == "proved", r
    assert r.claims == 6 * 2 + 5
    assert "k ≤ K = 5" in r.bounds and "N′ ≤ 700 " in r.bounds and "above 700 are not proved" in r.bounds
    assert "MRG-BMX-01" in r.rules and "INV-23" in r.rules


@pytest.mark.rule("INV-20", "INV-23", "MRG-BMX-01", "MRG-BMX-02")
def test_bitmex_bundled_profile_proved() -> None:
    """The bundled XBTUSD table: K = 247 steps (1% + 247 x 0.4% = 99.8% <= 100% < 100.2%),
    values up to 200 + 247 x 100 = 24,900 XBT, 248 steps x 2 claims + 247 boundaries."""
    from perpspec.profiles import load_profile

    prof = load_profile("bitmex-xbtusd")
    assert prof.markets["XBTUSD"].margin == xbtusd_steps()
    r = run_proof(REGISTRY["PRF-MRG-04"], margin_subject("bitmex-xbtusd", "XBTUSD", xbtusd_steps(), 8), 30)
    assert r.status == "proved", r
    assert r.claims == 248 * 2 + 247
    assert "k ≤ K = 247" in r.bounds and "24900" in r.bounds


@pytest.mark.rule("INV-20", "INV-23")
def test_step_table_lowering_the_rate_yields_counterexample() -> None:
    """MM rates 0.4%, 0.8%, 1.2%, then 0.8% at step 3: MM falls from 4.8 XBT at the 400 XBT
    limit to 3.20000001 XBT one satoshi above it (ceil of 400.00000001 x 0.8%)."""
    rates = ("0.4%", "0.8%", "1.2%", "0.8%", "1.6%")
    table = SteppedRates(xbtusd_steps(), tuple(rate(r) for r in rates))
    assert table.mm_rate(xbt("450")) == rate("0.8%")
    r = run_proof(REGISTRY["PRF-MRG-04"], margin_subject("test", "BROKEN", table, 8), 30)
    assert r.status == "counterexample" and r.failed
    assert r.failed_claim == "boundary 400: step 2 → 3"
    assert r.counterexample["N"] == "400" and r.counterexample["N′"] == "400.00000001"
    assert r.counterexample["MM"] == "4.8" and r.counterexample["MM′"] == "3.20000001"


# --------------------------------------------------------------------------- funding zero-sum


@pytest.mark.rule("FND-SUM-01", "FND-PAY-01", "INV-01")
def test_funding_zero_sum_proved_on_bundled_profiles() -> None:
    results = run_all(only="PRF-FND-01", timeout_s=30)
    bad = [f"{r.subject}: {r.status} {r.failed_claim} {dict(r.counterexample)} {r.reason}"
           for r in results if r.status != "proved"]
    assert not bad, "\n".join(bad)
    assert len(results) >= 10 and {r.claims for r in results} == {6}  # n = 2, 3, 4 x 2 claims
    inverse = [r for r in results if r.subject == "bitmex-xbtusd/XBTUSD"]
    assert inverse and "inverse contract, ceil rounding: 0 ≤ dust < n" in inverse[0].bounds


@pytest.mark.rule("FND-SUM-01", "FND-PAY-01")
@pytest.mark.parametrize("rounding", [Rounding.CEIL, Rounding.TRUNC])
def test_funding_zero_sum_inverse_contract(rounding: Rounding) -> None:
    """Coin-margined BTCUSD (100 USD contracts): the settlement's bound follows its rounding
    (ceil: 0 <= dust < n; toward zero, Drift's: |dust| < n)."""
    contract = Contract(ContractKind.INVERSE, 0, 1, 8, 100)
    r = run_proof(REGISTRY["PRF-FND-01"], funding_subject("test", "BTCUSD", contract, rounding), 30)
    assert r.status == "proved", r


@pytest.mark.rule("FND-SUM-01")
def test_trader_favouring_rounding_yields_counterexample(monkeypatch: pytest.MonkeyPatch) -> None:
    """A settlement that rounds the amounts owed toward zero while claiming ceil: payers pay less
    than they owe, the dust can go negative, and the rounding bound fails for two holders."""
    import perpspec.proofs.funding as proofs_funding

    def truncating(
        owed: Sequence[tuple[Term, Term]], rounding: Rounding = Rounding.CEIL, sink: str = "x"
    ) -> Settlement:
        return settle_owed(owed, Rounding.TRUNC, sink)

    monkeypatch.setattr(proofs_funding, "settle_owed", truncating)
    contract = Contract(ContractKind.LINEAR, 3, 2, 8)
    r = run_proof(REGISTRY["PRF-FND-01"], funding_subject("test", "BTCUSDT", contract), 30)
    assert r.status == "counterexample"
    assert r.failed_claim == "n = 2: rounding bound"
    # the model values: the holders were charged less than they owe in total
    cx = r.counterexample
    qs = [parse_units(cx[k], 3) for k in ("q1", "q2")]
    price, f = parse_units(cx["P"], 2), parse_units(cx["F"], 8)
    owed = [owed_fraction(contract, q, price, f) for q in qs]
    charged = -sum(parse_units(cx[k], 8) for k in ("Δ1", "Δ2"))
    assert charged == parse_units(cx["dust"], 8)
    assert charged * owed[0][1] < sum(num for num, _ in owed)
