"""Hostile input and a hostile environment (issue 8): exit 0, 1 or 2 with a plain message.

- User text is never read as rich markup (``[/]`` raised ``MarkupError``, exit 1; a message
  naming a ``[section]`` lost the name).
- Errors of the environment (a full disk, a closed pipe, ``run -o`` naming a file, a
  read-only folder) exit 2 with a message naming the file, not "a bug in perpspec" (exit 3).
- Output files are never an input, and are all or nothing: ``replay x.jsonl --outputs
  x.jsonl`` truncated the log; an input error halfway left half-written files.
- Long runs show a progress bar on a terminal only.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import pytest
from perpspec import outfiles, terminal
from perpspec.cli import app
from rich.console import Console
from typer.testing import CliRunner

runner = CliRunner()

DEPOSIT = '{"v": 1, "kind": "deposit", "t": 0, "account": "alice", "amount": "10"}'
MARK = '{"v": 1, "kind": "mark_price", "t": 1, "symbol": "BTCUSDT", "price": "50000"}'


def cli(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.output


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- markup


@pytest.mark.rule("ORC-RPL-01")
def test_markup_in_an_amount_is_an_input_error_printed_as_is(tmp_path: Path) -> None:
    log = write(tmp_path / "m.jsonl", ['{"v":1,"kind":"deposit","t":0,"account":"a","amount":"[/]"}'])
    code, text = cli("replay", str(log), "-p", "binance-usdm")
    assert code == 2, text
    assert f"{log}:1: field 'amount'" in text and "'[/]'" in text
    assert "Traceback" not in text and "internal error" not in text


@pytest.mark.rule("ORC-RPL-01")
def test_markup_in_a_profile_name_and_a_path(tmp_path: Path) -> None:
    log = write(tmp_path / "ok.jsonl", [DEPOSIT])
    code, text = cli("replay", str(log), "-p", "[/]")
    assert code == 2 and "[/]: no such profile" in text, text
    folder = tmp_path / "x[/b]"
    folder.mkdir(parents=True)
    bad = write(folder / "m.jsonl", ['{"v":1,"kind":"deposit","t":0,"account":"a","amount":"[b]x"}'])
    code, text = cli("replay", str(bad), "-p", "binance-usdm")
    assert code == 2 and f"{bad}:1: field 'amount'" in text and "[b]x" in text, text


@pytest.mark.rule("ORC-RPL-03")
def test_markup_in_an_account_id_is_shown_in_the_divergence(tmp_path: Path) -> None:
    log = write(
        tmp_path / "d.jsonl",
        [
            '{"v": 1, "kind": "deposit", "t": 0, "account": "[/]", "amount": "10"}',
            '{"v": 1, "kind": "expect", "balances": {"[/]": "11"}}',
        ],
    )
    code, text = cli("replay", str(log), "-p", "binance-usdm")
    assert code == 1, text
    assert "field:    balances.[/]" in text and "[/]: collateral 10" in text


@pytest.mark.rule("SCN-FILE-01", "SCN-SUM-01")
def test_markup_and_mathtext_in_a_scenario_name(tmp_path: Path) -> None:
    name = "[/] [bold]x $\\undefinedcommand$"
    head = {"kind": "scenario", "version": 1, "name": name, "profile": "binance-usdm", "market": "BTCUSDT"}
    log = write(tmp_path / "s.jsonl", [orjson.dumps(head).decode(), DEPOSIT, MARK])
    code, text = cli("run", str(log), "-o", str(tmp_path / "r"))
    assert code == 0, text
    assert f"scenario {name} on binance-usdm BTCUSDT" in text
    assert orjson.loads((tmp_path / "r" / "summary.json").read_bytes())["scenario"] == name


@pytest.mark.rule("SCN-FILE-01")
def test_a_message_naming_a_section_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nname = "n"\nprofile = "binance-usdm"\nmarket = "BTCUSDT"\n[bold]\nx = 1\n')
    code, text = cli("run", str(path), "-o", str(tmp_path / "r"))
    assert code == 2 and "unknown section [bold]" in text, text


# --------------------------------------------------------------------------- environment


@pytest.mark.rule("ORC-RPL-04")
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_disk_exits_2_naming_the_file(tmp_path: Path) -> None:
    log = write(tmp_path / "ok.jsonl", [DEPOSIT] * 50)
    code, text = cli("replay", str(log), "-p", "binance-usdm", "--outputs", "/dev/full")
    assert code == 2, text
    assert "/dev/full: field '--outputs'" in text and "No space left on device" in text
    assert "internal error" not in text


@pytest.mark.rule("ORC-RPL-04")
def test_a_full_disk_on_a_regular_file_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC on a regular file (fault injected in the temporary file): exit 2, target untouched."""
    log = write(tmp_path / "ok.jsonl", [DEPOSIT] * 50)
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"previous\n")
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fd: int, mode: str) -> None:
            self.fh = real_fdopen(fd, mode)

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self) -> None:
            self.fh.close()

    monkeypatch.setattr(outfiles.os, "fdopen", Full)
    code, text = cli("replay", str(log), "-p", "binance-usdm", "--outputs", str(out))
    assert code == 2 and f"{out}: field '--outputs'" in text and "No space left on device" in text, text
    assert out.read_bytes() == b"previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.jsonl", "out.jsonl"]


@pytest.mark.rule("ORC-RPL-01")
def test_a_closed_pipe_exits_2_with_a_message(tmp_path: Path) -> None:
    log = write(tmp_path / "ok.jsonl", [DEPOSIT] * 5)
    code = "from perpspec.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "replay", str(log), "-p", "binance-usdm"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before perpspec writes (like `| head -1`)
    err = proc.stderr.read().decode()
    assert proc.wait() == 2, err
    assert "standard output was closed" in err
    assert "Traceback" not in err and "internal error" not in err and "Exception ignored" not in err


@pytest.mark.rule("SCN-SUM-01")
def test_run_out_naming_a_file_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("keep me")
    code, text = cli("run", "-o", str(target))
    assert code == 2 and f"{target}: field '--out': exists and is not a folder" in text, text
    assert target.read_text() == "keep me"


@pytest.mark.rule("ORC-RPL-04", "SCN-SUM-01")
def test_a_read_only_folder_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EROFS / EACCES when creating the output (injected: the tests may run as root)."""

    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    log = write(tmp_path / "ok.jsonl", [DEPOSIT])
    code, text = cli("replay", str(log), "-p", "binance-usdm", "--digests", str(tmp_path / "d.txt"))
    assert code == 2 and "field '--digests'" in text and "Read-only file system" in text, text
    head = {"kind": "scenario", "version": 1, "name": "s", "profile": "binance-usdm", "market": "BTCUSDT"}
    scen = write(tmp_path / "s.jsonl", [orjson.dumps(head).decode(), DEPOSIT, MARK])
    code, text = cli("run", str(scen), "-o", str(tmp_path / "r"))
    assert code == 2 and "field '--out'" in text and "Read-only file system" in text, text


@pytest.mark.rule("ORC-RPL-04")
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_a_read_only_folder_for_real(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    log = write(tmp_path / "ok.jsonl", [DEPOSIT])
    try:
        code, text = cli("replay", str(log), "-p", "binance-usdm", "--outputs", str(ro / "o.jsonl"))
    finally:
        ro.chmod(0o755)
    assert code == 2 and "Permission denied" in text, text


# --------------------------------------------------------------------------- output files


@pytest.mark.rule("ORC-RPL-04")
def test_an_output_that_is_the_input_is_refused(tmp_path: Path) -> None:
    log = write(tmp_path / "x.jsonl", [DEPOSIT, MARK])
    before = log.read_bytes()
    code, text = cli("replay", str(log), "-p", "binance-usdm", "--outputs", str(log))
    assert code == 2 and "is the input file" in text, text
    link = tmp_path / "link.jsonl"
    link.symlink_to(log)
    code, text = cli("replay", str(log), "-p", "binance-usdm", "--digests", str(link))
    assert code == 2 and "is the input file" in text, text
    code, text = cli(
        "replay",
        str(log),
        "-p",
        "binance-usdm",
        "--digests",
        str(tmp_path / "o"),
        "--outputs",
        str(tmp_path / "o"),
    )
    assert code == 2 and "is also the path of --digests" in text, text
    assert log.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.jsonl", "x.jsonl"]


@pytest.mark.rule("ORC-RPL-04")
def test_an_input_error_halfway_leaves_no_half_written_files(tmp_path: Path) -> None:
    log = write(tmp_path / "x.jsonl", [DEPOSIT] * 7 + ['{"v": 1, "kind": "deposit", "t": 0}'])
    dig, out = tmp_path / "d.txt", tmp_path / "o.jsonl"
    out.write_bytes(b"old outputs\n")
    code, text = cli("replay", str(log), "-p", "binance-usdm", "--digests", str(dig), "--outputs", str(out))
    assert code == 2 and f"{log}:8" in text, text
    assert not dig.exists()
    assert out.read_bytes() == b"old outputs\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.jsonl", "x.jsonl"]


@pytest.mark.rule("ORC-RPL-04")
def test_outputs_are_kept_after_a_divergence_and_a_clean_run(tmp_path: Path) -> None:
    lines = [DEPOSIT, '{"v": 1, "kind": "expect", "balances": {"alice": "11"}}', DEPOSIT]
    log = write(tmp_path / "x.jsonl", lines)
    dig = tmp_path / "d.txt"
    code, _ = cli("replay", str(log), "-p", "binance-usdm", "--digests", str(dig))
    assert code == 1
    assert len(dig.read_bytes().splitlines()) == 1  # the event before the divergence
    code, _ = cli("replay", str(write(log, [DEPOSIT, DEPOSIT])), "-p", "binance-usdm", "--digests", str(dig))
    assert code == 0 and len(dig.read_bytes().splitlines()) == 2
    mask = os.umask(0)
    os.umask(mask)
    assert dig.stat().st_mode & 0o777 == 0o666 & ~mask  # not the 0600 of a temporary file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.txt", "x.jsonl"]


@pytest.mark.rule("ORC-RPL-04")
def test_dev_null_is_written_in_place(tmp_path: Path) -> None:
    log = write(tmp_path / "x.jsonl", [DEPOSIT])
    code, text = cli(
        "replay", str(log), "-p", "binance-usdm", "--outputs", os.devnull, "--digests", os.devnull
    )
    assert code == 0, text
    assert Path(os.devnull).exists() and not Path(os.devnull).is_file()


# --------------------------------------------------------------------------- progress


def test_progress_only_on_a_terminal_and_not_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = Console(file=io.StringIO(), force_terminal=True)
    pipe = Console(file=io.StringIO(), force_terminal=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PERPSPEC_PROGRESS", raising=False)
    assert terminal.progress_wanted(tty) and not terminal.progress_wanted(pipe)
    monkeypatch.setenv("CI", "true")
    assert not terminal.progress_wanted(tty)
    monkeypatch.delenv("CI")
    monkeypatch.setenv("PERPSPEC_PROGRESS", "0")
    assert not terminal.progress_wanted(tty)


@pytest.mark.rule("ORC-RPL-01")
def test_replay_shows_a_progress_bar_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PERPSPEC_PROGRESS", raising=False)
    monkeypatch.setattr(
        terminal, "err_console", lambda: Console(file=screen, force_terminal=True, width=120, markup=False)
    )
    log = write(tmp_path / "x.jsonl", [DEPOSIT] * 10_000)
    code, text = cli("replay", str(log), "-p", "binance-usdm")
    assert code == 0, text
    shown = screen.getvalue()
    assert "replay" in shown and "events/s" in shown
    assert "events/s" not in text  # stdout (the pipe here) stays clean


def test_prove_json_in_a_read_only_folder_fails_before_the_proofs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad --json path is found before the solver runs (it used to fail after every proof)."""
    from perpspec.proofs import runner as proof_runner

    def no_proofs(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("the proofs ran before the output path was checked")

    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(proof_runner, "run_all", no_proofs)
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    code, text = cli("prove", "--only", "PRF-MRG-01", "--json", str(tmp_path / "r.json"))
    assert code == 2 and "field '--json'" in text and "Read-only file system" in text, text
