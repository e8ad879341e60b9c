"""run_process and run_shell: output, exit status, bounded capture, the process group killed on timeout and cancel."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chapkit.adapters.runners.process import DEFAULT_OUTPUT_LIMIT, run_process, run_shell
from tests.integration.runners.conftest import (
    entries,
    has_ended,
    new_marker,
    pid_reports,
    processes_with,
    read_pids,
    same_path,
    write_family_script,
)

PY = sys.executable


async def test_output_exit_code_and_working_directory(tmp_path: Path) -> None:
    code = "import os, sys; print(os.getcwd()); print('warn', file=sys.stderr); sys.exit(3)"
    result = await run_process([PY, "-c", code], cwd=tmp_path)
    assert result.exit_code == 3
    assert not result.succeeded and not result.timed_out
    assert same_path(result.stdout.strip(), tmp_path)
    assert result.stderr == "warn\n"
    assert not result.stdout_truncated and not result.stderr_truncated
    assert result.describe() == "exited with code 3"
    assert result.args == (PY, "-c", code)
    assert result.duration_seconds >= 0


async def test_success_and_environment() -> None:
    result = await run_process(
        [PY, "-c", "import os; print(os.environ.get('CHAPKIT_PROBE'))"], env={**os.environ, "CHAPKIT_PROBE": "yes"}
    )
    assert result.succeeded
    assert result.stdout == "yes\n"


async def test_the_command_leads_a_process_group_of_its_own() -> None:
    code = "import os; print(os.getpgid(0) == os.getpid(), os.getsid(0) == os.getpid())"
    result = await run_process([PY, "-c", code])
    assert result.stdout.split() == ["True", "True"]


async def test_arguments_are_passed_verbatim_without_a_shell(tmp_path: Path) -> None:
    hostile = ["; touch pwned", "$(touch pwned)", "`touch pwned`", "a b", "*", "'\"", "{model_file}", ""]
    result = await run_process([PY, "-c", "import json, sys; print(json.dumps(sys.argv[1:]))", *hostile], cwd=tmp_path)
    assert json.loads(result.stdout) == hostile
    assert entries(tmp_path) == []


async def test_a_process_killed_by_a_signal() -> None:
    result = await run_process([PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert result.exit_code == -signal.SIGKILL
    assert result.describe() == "was killed by signal SIGKILL"


async def test_huge_output_is_bounded_to_its_end() -> None:
    code = "import sys; sys.stdout.write('x' * 5_000_000 + 'END'); sys.stderr.write('e' * 300_000 + 'TAIL')"
    result = await run_process([PY, "-c", code])
    assert result.succeeded
    assert len(result.stdout) == DEFAULT_OUTPUT_LIMIT and result.stdout.endswith("xEND")
    assert result.stdout_dropped_bytes == 5_000_003 - DEFAULT_OUTPUT_LIMIT and result.stdout_truncated
    assert len(result.stderr) == DEFAULT_OUTPUT_LIMIT and result.stderr.endswith("eTAIL")
    assert result.stderr_dropped_bytes == 300_004 - DEFAULT_OUTPUT_LIMIT


async def test_a_custom_limit_and_a_cut_through_a_character() -> None:
    result = await run_process([PY, "-c", "import sys; sys.stdout.buffer.write('aé'.encode() * 10)"], output_limit=4)
    assert result.stdout_dropped_bytes == 30 - 4
    # The first byte kept is the second half of an "é": replaced, not an error.
    assert result.stdout == "\ufffdaé"


async def test_a_missing_program_is_exit_code_127_as_in_a_shell(tmp_path: Path) -> None:
    result = await run_process([str(tmp_path / "no-such-program"), "--flag"])
    assert result.exit_code == 127 and not result.succeeded
    assert "no-such-program" in result.stderr and "not found" in result.stderr


async def test_shell_text_runs_through_sh_with_pipes_redirects_and_expansions(tmp_path: Path) -> None:
    command = "printf 'a\\nb\\n' | wc -l; >&2 echo x; echo \"$CHAPKIT_PROBE\" > out.txt && cat out.txt; exit 4"
    result = await run_shell(command, cwd=tmp_path, env={**os.environ, "CHAPKIT_PROBE": "probe value"})
    assert result.args == ("/bin/sh", "-c", command)
    assert result.exit_code == 4
    assert result.stdout.split() == ["2", "probe", "value"]
    assert result.stderr == "x\n"
    assert (tmp_path / "out.txt").read_text() == "probe value\n"


async def test_a_shell_syntax_error_and_an_unknown_command_are_results() -> None:
    broken = await run_shell("echo 'unbalanced")
    assert broken.exit_code == 2 and "sh" in broken.stderr
    missing = await run_shell("no-such-program-chapkit --flag")
    assert missing.exit_code == 127 and "no-such-program-chapkit: not found" in missing.stderr


@pytest.mark.parametrize("command", ["", "   \n", None])
async def test_run_shell_refuses_blank_text(command: str | None) -> None:
    with pytest.raises(ValueError, match="non-blank"):
        await run_shell(command)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"args": []}, "non-empty"),
        ({"args": [PY, b"-c"]}, "strings"),
        ({"args": [PY], "timeout": 0}, "timeout"),
        ({"args": [PY], "timeout": -1.0}, "timeout"),
        ({"args": [PY], "output_limit": -1}, "negative"),
    ],
)
async def test_invalid_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await run_process(**kwargs)  # type: ignore[arg-type]


async def test_after_the_command_exits_what_it_left_in_its_group_is_killed(tmp_path: Path) -> None:
    marker, report = new_marker(), tmp_path / "pids"
    result = await run_process([PY, str(write_family_script(tmp_path)), "exit", marker, str(report)])
    assert result.exit_code == 0
    pids = read_pids(report)
    assert pids is not None
    child, grandchild = pids
    assert has_ended(child, marker)
    assert has_ended(grandchild, marker)


async def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    script, marker = write_family_script(tmp_path), new_marker()
    # The family must have reported before the timeout fires; on a very busy machine allow it longer.
    for timeout in (1.5, 4.0, 10.0, 30.0):
        report = tmp_path / f"pids-{timeout}"
        result = await run_process([PY, str(script), "wait", marker, str(report)], timeout=timeout, kill_grace=2.0)
        assert result.timed_out and not result.succeeded
        assert result.describe() == f"timed out after {timeout:g} s"
        pids = read_pids(report)
        if pids is not None:
            break
    assert pids is not None, "the process family never reported its pids"
    child, grandchild = pids
    assert has_ended(child, marker)
    assert has_ended(grandchild, marker)
    assert result.exit_code == -signal.SIGTERM


async def test_a_timeout_kills_a_group_that_ignores_sigterm(tmp_path: Path) -> None:
    script, marker = write_family_script(tmp_path), new_marker()
    for timeout in (1.5, 4.0, 10.0, 30.0):
        report = tmp_path / f"pids-{timeout}"
        result = await run_process(
            [PY, str(script), "wait-stubborn", marker, str(report)], timeout=timeout, kill_grace=1.0
        )
        assert result.timed_out
        pids = read_pids(report)
        if pids is not None:
            break
    assert pids is not None, "the process family never reported its pids"
    assert result.exit_code == -signal.SIGKILL
    assert all(has_ended(pid, marker) for pid in pids)


@pytest.mark.parametrize("mode", ["wait", "wait-stubborn"])
async def test_cancellation_kills_the_whole_process_group_and_is_re_raised(tmp_path: Path, mode: str) -> None:
    script, marker = write_family_script(tmp_path), new_marker()
    async with pid_reports() as reports:
        running = asyncio.create_task(run_process([PY, str(script), mode, marker, reports.address], kill_grace=1.0))
        child, grandchild = await reports.next()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    assert has_ended(child, marker)
    assert has_ended(grandchild, marker)


@pytest.mark.parametrize("yields", range(6))
async def test_a_cancellation_at_any_early_point_leaves_no_process(tmp_path: Path, yields: int) -> None:
    marker = new_marker()
    running = asyncio.create_task(run_process([PY, "-c", "import time; time.sleep(600)", marker]))
    for _ in range(yields):
        await asyncio.sleep(0)  # lets the task reach a different point of its start each time
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert all(has_ended(pid, marker) for pid in processes_with(marker))


SLEEPER = "import time; time.sleep(600)"


def is_sleeper(pid: int, marker: str) -> bool:
    """Whether `pid` runs `python -c SLEEPER marker` (not a shell whose text mentions it)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    except OSError:
        return False
    return argv[1:] == [b"-c", SLEEPER.encode(), marker.encode()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the death signal is Linux's")
@pytest.mark.parametrize(
    "runner",
    [
        "run_process([sys.executable, '-c', SLEEPER, marker])",
        # Two commands: the shell cannot replace itself with the sleeper, which is its child and gets
        # no death signal of its own; the guard must kill it.
        "run_shell(shlex.join([sys.executable, '-c', SLEEPER, marker]) + ' ; echo after')",
        "run_shell(shlex.join([sys.executable, '-c', SLEEPER, marker]) + ' | cat')",
    ],
    ids=["argument-list", "shell-sequence", "shell-pipeline"],
)
def test_the_whole_group_dies_with_a_process_killed_outright(runner: str) -> None:
    marker = new_marker()
    parent_code = (
        "import asyncio, os, shlex, sys\n"
        "from chapkit.adapters.runners.process import run_process, run_shell\n"
        f"SLEEPER = {SLEEPER!r}\n"
        "marker = os.environ['MARKER']\n"
        f"asyncio.run({runner})\n"
    )
    parent = subprocess.Popen([PY, "-c", parent_code], env={**os.environ, "MARKER": marker})
    try:
        deadline = time.monotonic() + 60
        # Wait for the sleeper itself (a shell running it also has the marker in its command line).
        while not (sleepers := [pid for pid in processes_with(marker) if is_sleeper(pid, marker)]):
            assert parent.poll() is None and time.monotonic() < deadline, "the command did not start"
            time.sleep(0.05)
        parent.kill()  # SIGKILL: no cleanup of its own can run
        parent.wait()
        assert all(has_ended(pid, marker) for pid in sleepers), "the command outlived the process that ran it"
        assert all(has_ended(pid, marker) for pid in processes_with(marker))
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)
