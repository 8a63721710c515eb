"""The bundled profiles' [mark] and [index] sections (prices.toml) and their validation."""

from __future__ import annotations

from importlib import resources

import pytest
from perpspec.errors import InputError
from perpspec.numeric import Rounding
from perpspec.pricing.index import WeightedMedianGuard
from perpspec.profiles import bundled_names, load_profile, load_profile_files

EXPECTED_MARK = {
    "binance-usdm": "binance-median3",
    "binance-coinm": "binance-median3",
    "bybit-linear": "index-basis-ma",
    "bybit-inverse": "index-basis-ma",
    "bitmex-xbtusd": "bitmex-fair-price",
    "okx-swap": "index-basis-ma",
    "hyperliquid": "hyperliquid-median3",
    "dydx-v4": "oracle",
    "drift-v2": "oracle",
    "deribit": "index-basis-ma",
}


@pytest.mark.rule(
    "PRC-IDX-02", "PRC-IDX-03", "PRC-MRK-01", "PRC-MRK-02", "PRC-MRK-03", "PRC-MRK-04", "PRC-MRK-05"
)
@pytest.mark.parametrize("name", sorted(EXPECTED_MARK))
def test_bundled_profiles_select_price_models(name: str) -> None:
    assert name in bundled_names()
    profile = load_profile(name)
    assert type(profile.mechanism("mark")).variant_name == EXPECTED_MARK[name]
    index = profile.mechanism("index")
    assert index == WeightedMedianGuard(outlier=5_000_000, stale_after_s=10, rounding=Rounding.HALF_EVEN)


def _files_with(prices: str) -> list[tuple[str, str]]:
    folder = resources.files("perpspec.profiles") / "binance-usdm"
    files = [
        (f"binance-usdm/{p.name}", p.read_text("utf-8"))
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".toml") and p.name != "prices.toml"
    ]
    return [*files, ("prices.toml", prices)]


@pytest.mark.rule("PRC-IDX-02", "PRC-MRK-01")
def test_bad_price_sections_are_line_precise_errors() -> None:
    bad_outlier = '[mark]\nmodel = "oracle"\n\n[index]\nmodel = "weighted-median-guard"\noutlier = "0%"\n'
    with pytest.raises(InputError) as err:
        load_profile_files(_files_with(bad_outlier))
    assert err.value.place.file == "prices.toml" and err.value.place.field == "index.outlier"
    bad_window = '[mark]\nmodel = "binance-median3"\nbasis_points = 0\n'
    with pytest.raises(InputError) as err:
        load_profile_files(_files_with(bad_window))
    assert err.value.place.field == "mark.basis_points" and err.value.place.line == 3
    unknown = '[mark]\nmodel = "median-of-seven"\n'
    with pytest.raises(InputError, match="unknown mark model"):
        load_profile_files(_files_with(unknown))
    float_rate = '[index]\nmodel = "weighted-median-guard"\noutlier = 0.05\n'
    with pytest.raises(InputError, match="decimal string"):
        load_profile_files(_files_with(float_rate))
