"""docs/errors.md is generated from the error classes and kept up to date (`python -m cinema.api.errordoc`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cinema.api import errordoc
from cinema.errors import DECLARED, REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def _errordoc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "cinema.api.errordoc", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_docs_errors_md_is_up_to_date() -> None:
    done = _errordoc("--check")
    assert done.returncode == 0, done.stderr or "docs/errors.md is stale: run `python -m cinema.api.errordoc`"


def test_a_stale_table_fails_the_check_and_writing_fixes_it(tmp_path: Path, capsys) -> None:
    table = tmp_path / "errors.md"
    table.write_text("# Error codes\n\nhand-edited\n", encoding="utf-8")

    assert errordoc.main(["--check", "--output", str(table)]) == 1
    assert capsys.readouterr().err.strip() == f"{table} is stale: run `python -m cinema.api.errordoc`."

    assert errordoc.main(["--output", str(table)]) == 0
    assert errordoc.main(["--check", "--output", str(table)]) == 0
    assert table.read_text(encoding="utf-8") == (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")


def test_every_code_and_sentence_is_in_the_table() -> None:
    text = errordoc.render()
    for code, error in REGISTRY.items():
        assert f"| `{code}` | {error.status_code} |" in text, code
    for error in DECLARED.values():
        assert f"| {' '.join(error.default_detail.split())} | `{error.__qualname__}` |" in text, error
    assert "| `user_not_found` | 404 | The user does not exist. | `UserNotFound` |" in text
