#!/usr/bin/env python3
"""Developer entry point that needs nothing but Python 3.11+.

    python3 dev.py run        # set up .venv, migrate SQLite, seed, serve on 127.0.0.1:8000
    python3 dev.py test       # the test suite (SQLite; TEST_DATABASE_URL=postgresql://... for PostgreSQL)
    python3 dev.py lint | typecheck | layers | cov | setup

Every command first makes sure `.venv` exists and holds exactly the pinned
versions in `constraints.txt` (re-installing when that file changes).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".installed"


def setup() -> None:
    """Create `.venv` and install the project with its dev extra, pinned by constraints.txt."""
    if sys.version_info < (3, 11):
        sys.exit("Cinema needs Python 3.11 or newer.")
    wanted = hashlib.sha256(
        (ROOT / "constraints.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PY.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing pinned dependencies (a minute the first time) ...", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("help", [])
    if command in ("help", "-h", "--help"):
        print(__doc__)
        return 0
    setup()
    os.chdir(ROOT)
    commands = {
        "setup": [],
        "run": [str(BIN / "cinema"), "demo", *args],
        "test": [str(PY), "-m", "pytest", *args],
        "cov": [
            str(PY),
            "-m",
            "pytest",
            "--cov=cinema",
            "--cov=cli",
            "--cov-report=term-missing:skip-covered",
            *args,
        ],
        "lint": [str(BIN / "ruff"), "check", ".", *args],
        "format": [str(BIN / "ruff"), "format", ".", *args],
        "typecheck": [str(BIN / "mypy"), *args],
        "layers": [str(BIN / "lint-imports"), *args],
    }
    if command not in commands:
        print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
        return 2
    if not commands[command]:
        return 0
    if os.name == "posix":
        # Become the command, so signals (a service manager's SIGTERM) reach it, not a parent left waiting.
        os.execv(commands[command][0], commands[command])  # noqa: S606 - our own venv binaries
    return subprocess.call(commands[command])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
