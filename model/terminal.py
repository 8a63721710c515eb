"""What perpspec prints on a terminal: plain text consoles and the progress bar of long runs.

User text (account ids, paths, scenario names, error messages naming a ``[section]``) is
printed as it is: every console here has rich *markup* off, so ``[/]`` or ``[b]`` in an
input is never read as a style tag (that raised ``MarkupError`` or dropped the text).
Styles are given as :class:`rich.text.Text` spans instead.

Long runs (``replay``, ``run``, ``prove``) show a progress bar on stderr when stderr is a
terminal, and stay quiet when it is piped, under CI (``CI`` set) or with
``PERPSPEC_PROGRESS=0``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class _Console(Console):
    """A rich console that reports a closed pipe as :class:`BrokenPipeError` (rich itself
    exits with code 1, which is the divergence code of ``replay``); the CLI turns it into
    exit 2 with a message."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def out_console(width: int | None = None) -> Console:
    """The console of a command's results (stdout): no markup, no highlighting."""
    return _Console(markup=False, highlight=False, soft_wrap=True, width=width)


def err_console() -> Console:
    """The console of errors and progress (stderr): no markup, no highlighting."""
    return _Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


def styled(label: str, style: str, rest: str = "") -> Text:
    """``label`` in ``style`` followed by ``rest`` as plain text (never parsed as markup)."""
    return Text.assemble((label, style), rest)


def progress_wanted(console: Console) -> bool:
    """A progress bar only on an interactive terminal, never under CI or when switched off."""
    if os.environ.get("PERPSPEC_PROGRESS") == "0" or os.environ.get("CI"):
        return False
    return console.is_terminal and not console.is_dumb_terminal


class _RateColumn(ProgressColumn):
    """Items (events, proofs) per second, from the ``items`` field of the task."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed
        items = task.fields.get("items", 0)
        if not elapsed or not items:
            return Text(f"- {self.unit}/s")
        return Text(f"{int(items / elapsed):,} {self.unit}/s")


class Bar:
    """A started progress bar: :meth:`update` with the position and the items done so far."""

    def __init__(self, progress: Progress | None, task: Any) -> None:
        self._progress = progress
        self._task = task

    def update(self, completed: int, items: int | None = None) -> None:
        if self._progress is None:
            return
        if items is None:
            self._progress.update(self._task, completed=completed)
        else:
            self._progress.update(self._task, completed=completed, items=items)


@contextmanager
def progress_bar(label: str, total: int | None, unit: str, in_bytes: bool = False) -> Iterator[Bar]:
    """A transient progress bar on stderr: ``label``, the bar, position (bytes of the file when
    ``in_bytes``, else ``done/total``), ``unit``/s and the time remaining. A no-op bar when
    :func:`progress_wanted` says no."""
    console = err_console()
    if not progress_wanted(console):
        yield Bar(None, None)
        return
    position = DownloadColumn() if in_bytes else MofNCompleteColumn()
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        position,
        _RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total, items=0)
        yield Bar(progress, task)
