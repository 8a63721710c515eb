"""Errors shown to users: one paragraph naming the place and what was expected.

Every error a user can cause (a broken profile, a malformed event log, a bad account
snapshot) is a :class:`InputError`. The CLI prints it and exits with code 2; it never
shows a traceback.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Place:
    """Where in the user's input a problem is: file, 1-based line, and field path."""

    file: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        out = self.file
        if self.line is not None:
            out += f":{self.line}"
        if self.field:
            out += f": field '{self.field}'"
        return out


class InputError(Exception):
    """Bad user input. ``str(err)`` is the one-paragraph message shown to the user."""

    def __init__(self, place: Place, message: str) -> None:
        self.place = place
        self.message = message
        super().__init__(f"{place}: {message}")


class ModelError(Exception):
    """An internal inconsistency of the model itself (a bug in perpspec, never bad input)."""
