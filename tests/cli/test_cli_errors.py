"""The CLI never shows a bare traceback: input errors exit 2, internal errors exit 3."""

from __future__ import annotations

import pytest
import typer
from perpspec import cli
from perpspec.errors import InputError, Place
from typer.testing import CliRunner


def _invoke_guarded(fn):  # type: ignore[no-untyped-def]
    app = typer.Typer()

    @app.command()
    def go() -> None:
        cli._guard(fn)

    @app.command()
    def other() -> None:  # a second command keeps typer from collapsing to a single one
        pass

    return CliRunner().invoke(app, ["go"])


def test_input_error_exits_2_with_place() -> None:
    def bad() -> int:
        raise InputError(Place("events.jsonl", 7, "price"), "expected a decimal string")

    res = _invoke_guarded(bad)
    assert res.exit_code == 2
    assert "events.jsonl:7: field 'price': expected a decimal string" in res.output
    assert "Traceback" not in res.output


def test_internal_error_exits_3_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERPSPEC_DEBUG", raising=False)

    def bug() -> int:
        raise ZeroDivisionError("oops")

    res = _invoke_guarded(bug)
    assert res.exit_code == 3
    assert "internal error" in res.output and "ZeroDivisionError" in res.output
    assert "Traceback" not in res.output


def test_exit_code_of_command_is_kept() -> None:
    res = _invoke_guarded(lambda: 1)
    assert res.exit_code == 1


def test_profiles_command_lists_bundled() -> None:
    res = CliRunner().invoke(cli.app, ["profiles"])
    assert res.exit_code == 0
    for name in ("binance-usdm", "hyperliquid", "dydx-v4", "deribit"):
        assert name in res.output
