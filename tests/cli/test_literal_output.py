"""The CLI prints user text literally: nothing in square brackets is taken for rich markup."""

from __future__ import annotations

from pathlib import Path

import pytest

from chapkit.cli.client import fail
from tests.cli.support import chapkit


def test_init_s_next_line_keeps_its_extras(tmp_path: Path) -> None:
    result = chapkit("init", "flu-model", "--template", "fn-py", "--directory", str(tmp_path / "flu-model"))
    assert result.exit_code == 0, result.output
    assert "pip install -e '.[dev]'" in result.output


def test_an_error_message_with_brackets_prints_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    fail("install the extra: pip install 'chapkit[parquet]' ([bold]not markup[/bold])")
    printed = capsys.readouterr().err
    assert "pip install 'chapkit[parquet]'" in printed
    assert "[bold]not markup[/bold]" in printed
    assert printed.startswith("error: ")
