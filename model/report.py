"""The report of a scenario run: a printed summary, ``summary.json`` and four figures.

The model is exact; figures are not. Integers become plotting coordinates only here, at
the boundary, through :func:`_coords` (true division of an int by a power of ten). The
PNG files carry no timestamp or software metadata, so the same run writes byte-identical
files.

Rule: SCN-SUM-01 (what the summary reports, funding conservation).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from math import nan
from pathlib import Path
from typing import Any

import attrs
import orjson
from perpspec.errors import InputError, Place
from perpspec.outfiles import environment_message, write_file
from perpspec.units import RATE_DECIMALS, format_units
from rich.console import Console
from rich.table import Table
from rich.text import Text

HOUR_MS = 3_600_000
FIGURES = ("mark_index.png", "funding_rate.png", "open_interest.png", "liquidations.png")


@attrs.frozen
class Summary:
    """Rule: SCN-SUM-01. The figures of one scenario run, integers in the profile's units.

    ``funding_paid`` is the sum of funding debits, ``funding_received`` the sum of credits;
    the dust ``funding_paid - funding_received`` is what rounding kept (>= 0 when every
    payment rounds in the venue's favour). ``liquidations`` counts liquidation parts (one per
    ``liquidation`` output), ``liquidated_notional`` their notional at their prices;
    ``insurance_income`` / ``insurance_payouts`` the sums of the funds' positive and negative
    deltas, ``insurance_balance`` the funds' total at the end (from empty funds: income minus
    payouts plus what else the profile sends to a fund, such as funding dust to an insurance
    sink); ``uncovered_loss`` what no fund covered (LIQ-UNC-01).
    """

    scenario: str
    profile: str
    market: str
    settlement: str
    money_decimals: int
    size_decimals: int
    price_decimals: int
    accounts: int
    events: int
    trades: int
    volume: int  # money units (notional traded, one side)
    base_volume: int  # size units
    fees: int  # money units, fees charged to both sides
    funding_settlements: int
    funding_payments: int
    funding_paid: int
    funding_received: int
    funding_dust_out: int  # dust the engine reported sending to its sink (FundingRateOut.dust)
    bad_debts: int
    rejections: Mapping[str, int]
    final_digest: str
    open_interest: int  # size units at the end
    first_mark: int
    last_mark: int
    low_mark: int
    high_mark: int
    liquidations: int = 0
    liquidated_accounts: int = 0
    liquidated_notional: int = 0  # money units
    insurance_income: int = 0
    insurance_payouts: int = 0
    insurance_balance: int = 0  # every fund together, at the end
    uncovered_losses: int = 0  # uncovered_loss records
    uncovered_loss: int = 0  # their amount, money units

    @property
    def funding_dust(self) -> int:
        return self.funding_paid - self.funding_received

    def to_json(self) -> dict[str, Any]:
        """The JSON form: counts as integers, amounts as exact decimal strings."""
        money = self.money_decimals
        price = self.price_decimals
        size = self.size_decimals
        return {
            "scenario": self.scenario,
            "profile": self.profile,
            "market": self.market,
            "settlement": self.settlement,
            "accounts": self.accounts,
            "events": self.events,
            "trades": self.trades,
            "volume": format_units(self.volume, money),
            "base_volume": format_units(self.base_volume, size),
            "fees": format_units(self.fees, money),
            "funding": {
                "settlements": self.funding_settlements,
                "payments": self.funding_payments,
                "paid": format_units(self.funding_paid, money),
                "received": format_units(self.funding_received, money),
                "dust": format_units(self.funding_dust, money),
                "dust_to_sink": format_units(self.funding_dust_out, money),
            },
            "bad_debt_records": self.bad_debts,
            "liquidation": {
                "parts": self.liquidations,
                "accounts": self.liquidated_accounts,
                "notional": format_units(self.liquidated_notional, money),
                "insurance_income": format_units(self.insurance_income, money),
                "insurance_payouts": format_units(self.insurance_payouts, money),
                "insurance_balance": format_units(self.insurance_balance, money),
                "uncovered_losses": self.uncovered_losses,
                "uncovered_loss": format_units(self.uncovered_loss, money),
            },
            "rejections": dict(sorted(self.rejections.items())),
            "open_interest": format_units(self.open_interest, size),
            "mark": {
                "first": format_units(self.first_mark, price),
                "last": format_units(self.last_mark, price),
                "low": format_units(self.low_mark, price),
                "high": format_units(self.high_mark, price),
            },
            "final_digest": self.final_digest,
            "units": {"money_decimals": money, "size_decimals": size, "price_decimals": price},
        }


@attrs.define
class Series:
    """Time series sampled during the run (integers; converted only when plotted)."""

    times: list[int] = attrs.field(factory=list)
    marks: list[int] = attrs.field(factory=list)
    indexes: list[int] = attrs.field(factory=list)
    open_interest: list[int] = attrs.field(factory=list)
    funding_times: list[int] = attrs.field(factory=list)
    funding_rates: list[int] = attrs.field(factory=list)  # 10^-8 per interval
    predicted_times: list[int] = attrs.field(factory=list)
    predicted_rates: list[int] = attrs.field(factory=list)  # the model's rate from the samples so far
    insurance: list[int] = attrs.field(factory=list)  # every fund's balance together, at each mark
    liquidation_times: list[int] = attrs.field(factory=list)  # one per liquidation part
    liquidation_notional: list[int] = attrs.field(factory=list)  # money units
    liquidation_prices: list[int | None] = attrs.field(factory=list)  # None: another market


def print_summary(console: Console, s: Summary, out: Path | None) -> None:
    """Print the summary as a table (and where the report went)."""
    money, cur = s.money_decimals, s.settlement
    t = Table(title=Text(f"scenario {s.scenario} on {s.profile} {s.market}"), show_header=False)
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("accounts", f"{s.accounts:,}")
    t.add_row("events", f"{s.events:,}")
    t.add_row("trades", f"{s.trades:,}")
    t.add_row("volume", f"{format_units(s.volume, money)} {cur}")
    t.add_row("fees", f"{format_units(s.fees, money)} {cur}")
    t.add_row("funding settlements", f"{s.funding_settlements}")
    t.add_row("funding paid", f"{format_units(s.funding_paid, money)} {cur}")
    t.add_row("funding received", f"{format_units(s.funding_received, money)} {cur}")
    t.add_row("funding dust", f"{format_units(s.funding_dust, money)} {cur}")
    t.add_row("bad-debt records", f"{s.bad_debts}")
    t.add_row("liquidations (parts / accounts)", f"{s.liquidations} / {s.liquidated_accounts}")
    t.add_row("liquidated notional", f"{format_units(s.liquidated_notional, money)} {cur}")
    t.add_row("insurance fund income", f"{format_units(s.insurance_income, money)} {cur}")
    t.add_row("insurance fund payouts", f"{format_units(s.insurance_payouts, money)} {cur}")
    t.add_row("insurance fund at end", f"{format_units(s.insurance_balance, money)} {cur}")
    t.add_row(
        "uncovered loss", f"{format_units(s.uncovered_loss, money)} {cur} ({s.uncovered_losses} records)"
    )
    t.add_row(
        "mark first/low/high/last",
        " / ".join(
            format_units(v, s.price_decimals) for v in (s.first_mark, s.low_mark, s.high_mark, s.last_mark)
        ),
    )
    t.add_row("open interest at end", format_units(s.open_interest, s.size_decimals))
    total = sum(s.rejections.values())
    t.add_row("rejections", f"{total}")
    for rule, n in sorted(s.rejections.items()):
        t.add_row(f"  {rule}", f"{n}")
    t.add_row("final state digest", s.final_digest[:16] + "...")
    console.print(t, markup=False)
    if out is not None:
        console.print(Text(f"report written to {out}/ (summary.json, {', '.join(FIGURES)})"), highlight=False)


def prepare_folder(out: Path) -> None:
    """Create the report folder ``out`` (and its parents); an existing file there, a
    read-only or missing parent is an :class:`InputError` naming ``--out`` (exit 2)."""
    if out.exists() and not out.is_dir():
        raise InputError(Place(str(out), None, "--out"), "exists and is not a folder; give a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Place(str(out), None, "--out"), environment_message(exc, "create")) from None


def write_report(out: Path, s: Summary, series: Series) -> list[Path]:
    """Write ``summary.json`` and the figures into ``out``; return the files written.

    Each file is rendered in memory and written all-or-nothing
    (:func:`perpspec.outfiles.write_file`): an error leaves no half-written file.
    """
    prepare_folder(out)
    files = [out / "summary.json"]
    write_file(
        files[0],
        orjson.dumps(s.to_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n",
        "--out",
    )
    files += _figures(out, s, series)
    return files


#: The largest magnitude plotted (float64 reaches ~1.8e308; matplotlib's transforms need headroom).
PLOT_LIMIT = 10**300


def _coords(values: Sequence[int], decimals: int) -> list[Any]:
    """Integers in ``10^-decimals`` units as plotting coordinates (the only int->float step).

    A value whose magnitude exceeds :data:`PLOT_LIMIT` has no float coordinate: it becomes
    NaN (a gap in the line); the summary keeps the exact value.
    """
    scale = 10**decimals
    limit = PLOT_LIMIT * scale
    return [v / scale if -limit <= v <= limit else nan for v in values]


def unplottable(values: Sequence[int], decimals: int) -> int:
    """How many of ``values`` :func:`_coords` cannot plot (beyond :data:`PLOT_LIMIT`)."""
    limit = PLOT_LIMIT * 10**decimals
    return sum(1 for v in values if not -limit <= v <= limit)


def _hours(times: Sequence[int], t0: int) -> list[Any]:
    return [(t - t0) / HOUR_MS for t in times]


def _figures(out: Path, s: Summary, series: Series) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t0 = series.times[0] if series.times else 0
    hours = _hours(series.times, t0)
    written = []

    def save(fig: Figure, name: str) -> None:
        FigureCanvasAgg(fig)
        fig.tight_layout()
        path = out / name
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
        write_file(path, buf.getvalue(), "--out")
        written.append(path)

    # parse_math=False on every label with user text (scenario and market names, the
    # settlement currency): "$\\undefined$" in a scenario name prints as it is.
    with matplotlib.rc_context({"path.simplify": True, "axes.grid": True, "grid.alpha": 1 / 4}):
        fig = Figure(figsize=(10, 6))
        ax, bx = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        ax.plot(hours, _coords(series.indexes, s.price_decimals), label="index", linewidth=1)
        ax.plot(hours, _coords(series.marks, s.price_decimals), label="mark", linewidth=1, alpha=3 / 4)
        ax.set_ylabel(f"price ({s.settlement})", parse_math=False)
        ax.set_title(f"{s.market} mark vs index ({s.scenario})", parse_math=False)
        ax.legend()
        basis = [m - i for m, i in zip(series.marks, series.indexes, strict=True)]
        bx.plot(hours, _coords(basis, s.price_decimals), linewidth=1, color="tab:red")
        bx.axhline(0, color="black", linewidth=1 / 2)
        bx.set_ylabel(f"mark - index ({s.settlement})", parse_math=False)
        bx.set_xlabel("hours")
        save(fig, FIGURES[0])

        fig = Figure(figsize=(10, 4))
        ax = fig.add_subplot()
        pct = RATE_DECIMALS - 2
        if series.predicted_times:
            ax.plot(
                _hours(series.predicted_times, t0),
                _coords(series.predicted_rates, pct),
                linewidth=1,
                label="predicted from samples so far",
            )
        if series.funding_times:
            fh = _hours(series.funding_times, t0)
            ax.plot(fh, _coords(series.funding_rates, pct), "o", markersize=6, label="settled")
        if series.predicted_times or series.funding_times:
            ax.legend()
        ax.axhline(0, color="black", linewidth=1 / 2)
        ax.set_xlabel("hours")
        ax.set_ylabel("funding rate per interval (%)")
        ax.set_title(f"{s.market} funding rate ({s.scenario})", parse_math=False)
        save(fig, FIGURES[1])

        fig = Figure(figsize=(10, 4))
        ax = fig.add_subplot()
        ax.plot(hours, _coords(series.open_interest, s.size_decimals), linewidth=1)
        ax.set_xlabel("hours")
        ax.set_ylabel("open interest (base)")
        ax.set_title(f"{s.market} open interest ({s.scenario})", parse_math=False)
        save(fig, FIGURES[2])

        save(_liquidation_figure(Figure, s, series, t0, hours), FIGURES[3])
    return written


def _liquidation_figure(figure: Any, s: Summary, series: Series, t0: int, hours: list[Any]) -> Any:
    """Liquidations over time beside mark and index, and the insurance funds' balance.

    Top: mark and index with a marker at each liquidation part of the scenario's market (at its
    price); middle: the notional of each part; bottom: every fund's balance together at each mark.
    """
    fig = figure(figsize=(10, 8))
    ax, nx, ix = fig.subplots(3, 1, sharex=True, height_ratios=[3, 1, 1])
    ax.plot(hours, _coords(series.indexes, s.price_decimals), label="index", linewidth=1)
    ax.plot(hours, _coords(series.marks, s.price_decimals), label="mark", linewidth=1, alpha=3 / 4)
    here = [
        (t, p)
        for t, p in zip(series.liquidation_times, series.liquidation_prices, strict=True)
        if p is not None
    ]
    if here:
        ax.plot(
            _hours([t for t, _ in here], t0),
            _coords([p for _, p in here], s.price_decimals),
            "x",
            color="tab:red",
            markersize=5,
            label=f"liquidation ({s.liquidations} parts)",
        )
    ax.set_ylabel(f"price ({s.settlement})", parse_math=False)
    ax.set_title(f"{s.market} liquidations and insurance fund ({s.scenario})", parse_math=False)
    ax.legend()
    if series.liquidation_times:
        nx.plot(
            _hours(series.liquidation_times, t0),
            _coords(series.liquidation_notional, s.money_decimals),
            "o",
            markersize=3,
            color="tab:red",
        )
    else:
        middle = 1 / 2  # axes coordinates (display only, like _coords)
        nx.text(middle, middle, "no liquidation", transform=nx.transAxes, ha="center", va="center")
    nx.set_ylabel(f"notional ({s.settlement})", parse_math=False)
    ix.plot(
        hours,
        _coords(series.insurance, s.money_decimals),
        linewidth=1,
        color="tab:green",
        drawstyle="steps-post",
    )
    ix.axhline(0, color="black", linewidth=1 / 2)
    ix.set_ylabel(f"insurance fund ({s.settlement})", parse_math=False)
    ix.set_xlabel("hours")
    return fig
