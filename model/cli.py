"""The ``perpspec`` command line (typer + rich).

Every command turns bad input into a one-paragraph error naming file, line and field,
and exit code 2; never a traceback. The commands are thin: each delegates to the module
that owns the job.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from perpspec.errors import InputError
from perpspec.outfiles import environment_message
from perpspec.terminal import err_console, out_console, styled

app = typer.Typer(
    name="perpspec",
    help="Executable specification and reference model of perpetual-futures risk engines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _say(code: int, label: str, message: str) -> None:
    """Print ``label`` (red) and ``message`` (plain, never markup) on stderr; exit ``code``."""
    try:
        err_console().print(styled(label, "bold red", f" {message}"))
    except OSError:
        pass  # stderr itself is gone: the exit code still tells
    raise typer.Exit(code)


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so that the interpreter's final flush
    does not print a second error (only for the real stdout, never a test's capture)."""
    if sys.stdout is sys.__stdout__ and sys.stdout is not None:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def _guard(fn: Callable[[], int | None]) -> None:
    """Run a command: bad input and errors of the environment (a full disk, a read-only
    folder, a closed pipe) exit 2 with a one-paragraph message; an internal error (a bug in
    perpspec) exits 3 with a short message, and its traceback only when
    ``PERPSPEC_DEBUG=1``. A user never sees a bare traceback, and user text in a message is
    printed as it is (no rich markup)."""
    try:
        code = fn()
    except InputError as exc:
        _say(2, "error:", str(exc))
    except BrokenPipeError:
        _silence_stdout()
        _say(
            2,
            "error:",
            "the standard output was closed before perpspec finished writing (a pipe into a "
            "command such as `head` that stopped reading); the printed output is incomplete",
        )
    except OSError as exc:
        _say(
            2,
            "error:",
            environment_message(exc, "use", with_name=True) + "; this is a problem of the environment",
        )
    except MemoryError:
        _say(2, "error:", "out of memory; the input is too large for this machine")
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if os.environ.get("PERPSPEC_DEBUG") == "1":
            raise
        _say(
            3,
            "internal error:",
            f"{type(exc).__name__}: {exc}. This is a bug in perpspec, not in your input; "
            "rerun with PERPSPEC_DEBUG=1 for the traceback and report it.",
        )
    if code:
        raise typer.Exit(code)


@app.command()
def calc(
    what: Annotated[str, typer.Argument(help="margin | liquidation-price | bankruptcy-price")],
    profile: Annotated[str, typer.Option("--profile", "-p", help="bundled profile name or a .toml file")],
    account: Annotated[Path, typer.Option("--account", "-a", help="account snapshot (JSON)")],
    json_out: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Margin, liquidation price or bankruptcy price of an account snapshot."""
    from perpspec.calc import run_calc

    _guard(lambda: run_calc(what, profile, account, json_out))


@app.command()
def prove(
    json_out: Annotated[Path | None, typer.Option("--json", help="write results as JSON here")] = None,
    only: Annotated[str | None, typer.Option("--only", help="run only proofs whose ID contains this")] = None,
    timeout: Annotated[int, typer.Option("--timeout", help="solver timeout per proof, seconds")] = 60,
) -> None:
    """Run the Z3 proofs over the model's formulas and print their status."""
    from perpspec.proofs.runner import run_proofs

    _guard(lambda: run_proofs(json_out, only, timeout))


@app.command()
def profiles() -> None:
    """List the bundled profiles."""
    from perpspec.profiles import bundled_names, load_profile
    from rich.table import Table

    def show() -> None:
        table = Table("profile", "venue", "settlement", "markets")
        for name in bundled_names():
            p = load_profile(name)
            table.add_row(name, p.meta.title, p.meta.settlement, ", ".join(p.markets))
        out_console().print(table)

    _guard(lambda: show())


@app.command()
def replay(
    log: Annotated[Path, typer.Argument(help="JSON Lines event log (spec/events.md)")],
    profile: Annotated[str, typer.Option("--profile", "-p", help="bundled profile name or a .toml file")],
    digests: Annotated[Path | None, typer.Option("--digests", help="write a state digest per event")] = None,
    outputs: Annotated[Path | None, typer.Option("--outputs", help="write the outputs (JSON Lines)")] = None,
) -> None:
    """Replay an event log; stop at the first divergence from the expected outputs it carries."""
    from perpspec.oracle.replay import run_replay

    _guard(lambda: run_replay(log, profile, digests, outputs))


@app.command()
def run(
    scenario: Annotated[
        str | None, typer.Argument(help="bundled scenario name or a file (.toml spec, .jsonl log)")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="report folder")] = Path("perpspec-report"),
) -> None:
    """Run a scenario (default: the bundled volatile BTCUSDT day) and write a report."""
    from perpspec.simulation import run_scenario_cli

    _guard(lambda: run_scenario_cli(scenario, out))


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
