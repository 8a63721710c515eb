"""Output files (``replay --outputs/--digests``, ``run -o``, ``prove --json``): nothing lost,
nothing half-written.

- An output path that is one of the command's inputs (the same file, also through another
  name or a link: :func:`os.path.samefile`), or that two options name at once, is refused
  before anything is opened: ``replay x.jsonl --outputs x.jsonl`` used to truncate the log.
- A regular file is written to a temporary file in the same folder and renamed over the
  target only when the command succeeded (:func:`os.replace`, atomic on POSIX); on an error
  the temporary file is removed and an existing target is left as it was.
- A target that exists and is not a regular file (``/dev/null``, ``/dev/full``, a FIFO) is
  written in place: it cannot be renamed over.

Errors of the environment (a full disk, a read-only or missing folder, no permission) are
:class:`~perpspec.errors.InputError` (exit 2) naming the file, never "a bug in perpspec".
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

from perpspec.errors import InputError, Place
from perpspec.traceability import implements

_HINTS = {
    errno.ENOSPC: "the disk or device is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "it is a folder",
}


def environment_message(exc: OSError, what: str = "write", with_name: bool = False) -> str:
    """One sentence for an :class:`OSError` of the environment: what failed (with the file's
    name when ``with_name``), the system's reason and what it means."""
    reason = exc.strerror or type(exc).__name__
    hint = _HINTS.get(exc.errno or 0)
    name = f" {exc.filename}" if with_name and exc.filename is not None else ""
    return f"cannot {what}{name}: {reason}" + (f" ({hint})" if hint and hint not in reason.lower() else "")


@implements("ORC-RPL-04")
def refuse_inputs(outputs: Mapping[str, Path | None], inputs: Sequence[Path]) -> None:
    """Rule: ORC-RPL-04. Refuse an output path that is an input or that another output option names too.

    ``outputs`` maps an option name (``--outputs``) to its path; ``inputs`` are the files the
    command reads. Raises :class:`InputError` (exit 2) before anything is written.
    """
    seen: list[tuple[str, Path]] = []
    for option, path in outputs.items():
        if path is None or _special(path):
            continue  # /dev/null may be both an (empty) input and an output
        for inp in inputs:
            if _same(path, inp):
                raise InputError(
                    Place(str(path), None, option),
                    f"is the input file {inp}; perpspec never overwrites an input (choose another path)",
                )
        for other_option, other in seen:
            if _same(path, other) or os.path.abspath(path) == os.path.abspath(other):
                raise InputError(
                    Place(str(path), None, option), f"is also the path of {other_option}; give two files"
                )
        seen.append((option, path))


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def _special(path: Path) -> bool:
    """An existing target that is not a regular file or a folder (a device, a FIFO)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _mode_for(path: Path) -> int:
    """The permission bits the file gets: those of the file it replaces, else 0666 - umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


class Sink(Protocol):
    """What the writers need of an output file."""

    def write(self, data: bytes, /) -> int: ...


class _Guarded:
    """A file whose failed writes say which output failed (InputError, exit 2)."""

    __slots__ = ("_fh", "_option", "_path")

    def __init__(self, fh: IO[bytes], path: Path, option: str) -> None:
        self._fh, self._path, self._option = fh, path, option

    def write(self, data: bytes, /) -> int:
        try:
            return self._fh.write(data)
        except OSError as exc:
            raise _write_error(exc, self._path, self._option) from None


def _write_error(exc: OSError, path: Path, option: str) -> InputError:
    exc.filename = str(path)
    return InputError(Place(str(path), None, option), environment_message(exc))


@implements("ORC-RPL-04")
@contextmanager
def output_file(path: Path | None, option: str = "output") -> Iterator[Sink | None]:
    """Rule: ORC-RPL-04. Open ``path`` for writing (``None`` yields ``None``); commit it only
    if the block succeeds.

    A regular file is written to ``.NAME.XXXX.part`` in the same folder and renamed onto
    ``path`` at the end of a block that raised nothing; an exception removes the temporary
    file and leaves ``path`` as it was. A device or FIFO is written in place. A failed write
    raises :class:`InputError` naming ``path`` and ``option``.
    """
    if path is None:
        yield None
        return
    if path.is_dir():
        raise InputError(Place(str(path), None, option), "is a folder; give a file path")
    if _special(path):
        try:
            fh = open(path, "wb")
        except OSError as exc:
            raise _write_error(exc, path, option) from None
        try:
            yield _Guarded(fh, path, option)
        finally:
            try:
                fh.close()
            except OSError as exc:
                raise _write_error(exc, path, option) from None
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise _write_error(exc, path, option) from None
    committed = False
    try:
        fh = os.fdopen(fd, "wb")
        try:
            yield _Guarded(fh, path, option)
        except BaseException:
            _quiet_close(fh)
            raise
        try:
            fh.close()
            os.chmod(tmp, _mode_for(path))
            os.replace(tmp, path)
        except OSError as exc:
            raise _write_error(exc, path, option) from None
        committed = True
    finally:
        if not committed:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _quiet_close(fh: IO[bytes]) -> None:
    try:
        fh.close()
    except OSError:
        pass  # the block's own error is the one to report


def write_file(path: Path, data: bytes, option: str = "output") -> None:
    """Write ``data`` to ``path`` through :func:`output_file` (all or nothing)."""
    with output_file(path, option) as fh:
        assert fh is not None
        fh.write(data)


def prepare_parent(path: Path, option: str = "output") -> None:
    """Create the folder of ``path`` if missing and check that a file can be created there (an
    :class:`InputError` if not, or if ``path`` is a folder), so that a bad output path fails
    before a long run starts."""
    if path.is_dir():
        raise InputError(Place(str(path), None, option), "is a folder; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Place(str(path), None, option), environment_message(exc, "create")) from None
    if _special(path):
        return
    try:  # a read-only or full folder fails now, not after the run
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _write_error(exc, path, option) from None
