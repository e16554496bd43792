"""Bulk staff grants: many user-movie lines at once, each reported (docs/entitlements.md, "Bulk grants").

Input: CSV with a header naming the columns `user`, `movie` and optionally
`days` (in any order), or JSON lines: one object per line with `user`,
`movie` and optional `days` (`user_id` and `movie_id` are read too). A user is
an id or an email; a line without `days` takes the run's default (None:
forever). Blank lines are skipped.

Each line is granted or refused on its own, by the same rules as one grant
(`service.grant`): a bad line, an unknown user or movie, or a movie the user
already owns for good is a failure of that line (line number, input, error
code and sentence) and never undoes the others. For speed the lines are
checked in bulk (one lookup of all users and movies) and written in chunks of
`CHUNK` lines, one transaction and one INSERT each; a chunk whose transaction
fails unexpectedly is redone line by line. A dry run does every check and
writes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cinema import clock, sql
from cinema.accounts.actor import CurrentUser
from cinema.accounts.errors import UserNotFound
from cinema.accounts.tables import User
from cinema.catalog.errors import MovieNotFound
from cinema.db import MAX_ID, fetch, lock_clause, transaction
from cinema.entitlements import service
from cinema.entitlements.access import live_sql
from cinema.entitlements.errors import AlreadyOwned, InvalidGrantFile, InvalidGrantLine
from cinema.entitlements.schemas import GrantFailure, GrantReport
from cinema.entitlements.tables import EntitlementSource
from cinema.errors import CinemaError

#: Lines per transaction (and per INSERT).
CHUNK = 250
#: Longest `days` a line may give (a hundred years).
DAYS_MAX = 36500
#: Input shown back in a failure, at most this many characters.
INPUT_SHOWN = 200

_INTEGER = re.compile(r"[+-]?\d+")

Progress = Callable[[int, int], None]


@dataclass
class GrantLine:
    """One input line: where it was, what it said, and what was read from it (or why not)."""

    line: int
    input: str
    user: int | str | None = None
    movie_id: int | None = None
    days: int | None = None
    problem: str | None = None


def _id(value: Any, what: str) -> int:
    text = str(value).strip() if value is not None else ""
    if isinstance(value, bool) or not _INTEGER.fullmatch(text):
        raise ValueError(f"{what} must be an id (a whole number), got {text or 'nothing'!r}")
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"{what} {number} is out of range (1 to {MAX_ID})")
    return number


def _user(value: Any) -> int | str:
    from cinema.accounts.schemas import account_email

    text = str(value).strip() if value is not None else ""
    if not isinstance(value, bool) and _INTEGER.fullmatch(text):
        return _id(text, "user")
    if not text:
        raise ValueError("user is missing (an id or an email)")
    try:
        return account_email(text)
    except ValueError:
        raise ValueError(f"user {text[:80]!r} is neither an id nor an email") from None


def _days(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if isinstance(value, bool) or not _INTEGER.fullmatch(text) or not 1 <= int(text) <= DAYS_MAX:
        raise ValueError(f"days must be a whole number from 1 to {DAYS_MAX}, got {text[:20]!r}")
    return int(text)


def _read(line: GrantLine, fields: dict[str, Any]) -> GrantLine:
    try:
        line.user = _user(fields.get("user", fields.get("user_id")))
        line.movie_id = _id(fields.get("movie", fields.get("movie_id")), "movie")
        line.days = _days(fields.get("days"))
    except ValueError as exc:
        line.problem = str(exc)
    return line


def parse(text: str) -> list[GrantLine]:
    """The lines of a bulk grant file (CSV with a header, or JSON lines). Raises `InvalidGrantFile` (400)."""
    stripped = text.lstrip("\ufeff")
    first = next((line for line in stripped.splitlines() if line.strip()), None)
    if first is None:
        raise InvalidGrantFile(problem="the input is empty")
    if first.lstrip().startswith("{"):
        return _parse_json_lines(stripped)
    return _parse_csv(stripped)


def _parse_json_lines(text: str) -> list[GrantLine]:
    lines: list[GrantLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        line = GrantLine(line=number, input=raw.strip()[:INPUT_SHOWN])
        try:
            fields = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
            line.problem = "not a JSON object"
            lines.append(line)
            continue
        if not isinstance(fields, dict):
            line.problem = "not a JSON object"
            lines.append(line)
            continue
        lines.append(_read(line, fields))
    return lines


def _parse_csv(text: str) -> list[GrantLine]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except (StopIteration, csv.Error):
        raise InvalidGrantFile(problem="no CSV header") from None
    if (
        "user" not in header
        or "movie" not in header
        or not set(header) <= {"user", "movie", "days"}
        or len(set(header)) != len(header)
    ):
        raise InvalidGrantFile(
            problem=f"the header must name user, movie and optionally days, each once, got {header}"
        )
    lines: list[GrantLine] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot resume after a broken record, so the lines after it
            # would go unread: refuse the whole file (nothing is granted) instead.
            raise InvalidGrantFile(problem=f"line {start}: unreadable CSV: {exc}") from None
        if not any(cell.strip() for cell in row):
            continue
        line = GrantLine(line=start, input=",".join(row)[:INPUT_SHOWN])
        if len(row) != len(header):
            line.problem = f"expected {len(header)} fields ({','.join(header)}), got {len(row)}"
            lines.append(line)
            continue
        lines.append(_read(line, dict(zip(header, row, strict=True))))
    return lines


def _failure(line: GrantLine, error: CinemaError) -> GrantFailure:
    problem = error.extra.get("problem")
    return GrantFailure(
        line=line.line,
        input=line.input,
        code=error.code,
        detail=error.detail,
        problem=str(problem) if problem else None,
    )


async def _existing_users(refs: Sequence[int | str]) -> dict[int | str, int]:
    """User id by reference (id or normalised email) for the refs that exist."""
    found: dict[int | str, int] = {}
    ids = sorted({ref for ref in refs if isinstance(ref, int)})
    emails = sorted({User.normalize_email(ref) for ref in refs if isinstance(ref, str)})
    for part in sql.chunks(ids, 500):
        clause, values = sql.any_of("id", part, "int4")
        for row in await fetch(f"SELECT id FROM users WHERE {clause}", *values):  # noqa: S608
            found[int(row["id"])] = int(row["id"])
    for part in sql.chunks(emails, 500):
        clause, values = sql.any_of("email", part, "text")
        for row in await fetch(f"SELECT id, email FROM users WHERE {clause}", *values):  # noqa: S608
            found[str(row["email"])] = int(row["id"])
    return found


async def _existing_movies(movie_ids: Sequence[int], *, keep: bool = False) -> set[int]:
    """Which of the movies exist (with `keep`, locked against deletion until commit)."""
    found: set[int] = set()
    for part in sql.chunks(sorted(set(movie_ids)), 500):
        clause, values = sql.any_of("id", part, "int4")
        lock = lock_clause("KEY SHARE") if keep else ""
        found |= {int(r["id"]) for r in await fetch(f"SELECT id FROM movies WHERE {clause}{lock}", *values)}  # noqa: S608
    return found


async def _owned_for_good(user_ids: Sequence[int], now: datetime) -> set[tuple[int, int]]:
    """(user, movie) pairs among these users' live rows without end."""
    clause, values = sql.any_of("e.user_id", sorted(set(user_ids)), "int4")
    rows = await fetch(
        f"SELECT e.user_id, e.movie_id FROM entitlements e WHERE {clause} "  # noqa: S608
        f"AND e.expires_at IS NULL AND e.start_by IS NULL AND {live_sql('e', '{}')}",
        *values,
        now,
    )
    return {(int(r["user_id"]), int(r["movie_id"])) for r in rows}


_TYPES = ["int4", "int4", "text", "timestamptz", "timestamptz", "int4", "text", "timestamptz"]


@dataclass
class _Ready:
    line: GrantLine
    user_id: int
    movie_id: int
    expires_at: datetime | None


async def grant_many(
    actor: CurrentUser,
    lines: Sequence[GrantLine],
    *,
    reason: str,
    default_days: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> GrantReport:
    """Grant every good line (see the module docstring); returns the per-line report. ADMIN only.

    Raises `RoleRequired` (403) and `ReasonRequired` (422) for the whole run;
    everything else is a failure of its line.
    """
    service.require_admin(actor)
    text = service.clean_reason(reason)
    started = time.perf_counter()
    now = now or clock.utcnow()
    failures: list[GrantFailure] = []
    ready: list[_Ready] = []
    parsed = [line for line in lines if line.problem is None]
    for line in lines:
        if line.problem is not None:
            failures.append(_failure(line, InvalidGrantLine(problem=line.problem)))
    users = await _existing_users([line.user for line in parsed if line.user is not None])
    movies = await _existing_movies([line.movie_id for line in parsed if line.movie_id is not None])
    for line in parsed:
        assert line.user is not None
        assert line.movie_id is not None
        user_id = users.get(line.user if isinstance(line.user, int) else User.normalize_email(line.user))
        if user_id is None:
            failures.append(_failure(line, UserNotFound()))
        elif line.movie_id not in movies:
            failures.append(_failure(line, MovieNotFound()))
        else:
            days = line.days if line.days is not None else default_days
            expires = None if days is None else now + timedelta(days=days)
            ready.append(_Ready(line, user_id, line.movie_id, expires))
    done = len(lines) - len(ready)
    if progress is not None:
        progress(done, len(lines))
    granted_ids: list[int] = []
    planned: set[tuple[int, int]] = set()
    for chunk in sql.chunks(ready, CHUNK):
        try:
            ids, refused = await _grant_chunk(actor, chunk, text, now, planned, dry_run=dry_run)
        except Exception:
            if dry_run:
                raise
            # Nothing of the chunk was written: redo it line by line, each checked afresh.
            planned -= {(r.user_id, r.movie_id) for r in chunk}
            ids, refused = await _grant_one_by_one(actor, chunk, text, now)
        granted_ids += ids
        failures += refused
        done += len(chunk)
        if progress is not None:
            progress(done, len(lines))
    failures.sort(key=lambda failure: failure.line)
    return GrantReport(
        dry_run=dry_run,
        lines=len(lines),
        granted=len(lines) - len(failures),
        failed=len(failures),
        failures=failures,
        entitlement_ids=granted_ids,
        seconds=round(time.perf_counter() - started, 3),
    )


async def _grant_chunk(
    actor: CurrentUser,
    chunk: Sequence[_Ready],
    reason: str,
    now: datetime,
    planned: set[tuple[int, int]],
    *,
    dry_run: bool,
) -> tuple[list[int], list[GrantFailure]]:
    """Check and write one chunk in one transaction (none in a dry run)."""
    if dry_run:
        return [], _refuse_owned(chunk, await _owned_for_good([r.user_id for r in chunk], now), planned)[1]
    async with transaction():
        user_ids = sorted({r.user_id for r in chunk})
        clause, values = sql.any_of("id", user_ids, "int4")
        # Queue behind (and ahead of) other changes of these users' rights, as one grant does.
        await fetch(
            f"SELECT id FROM users WHERE {clause} ORDER BY id" + lock_clause("NO KEY UPDATE"),  # noqa: S608
            *values,
        )
        kept = await _existing_movies([r.movie_id for r in chunk], keep=True)
        gone = [r for r in chunk if r.movie_id not in kept]
        fresh, refused = _refuse_owned(
            [r for r in chunk if r.movie_id in kept], await _owned_for_good(user_ids, now), planned
        )
        refused += [_failure(r.line, MovieNotFound()) for r in gone]
        ids: list[int] = []
        if fresh:
            source, args = sql.rows_source(
                _TYPES,
                [
                    (
                        r.user_id,
                        r.movie_id,
                        EntitlementSource.GRANT.value,
                        now,
                        r.expires_at,
                        service.actor_user_id(actor),
                        reason,
                        now,
                    )
                    for r in fresh
                ],
            )
            rows = await fetch(
                "INSERT INTO entitlements (user_id, movie_id, source, starts_at, expires_at, granted_by_id, "
                f"grant_reason, created_at) {source} RETURNING id",
                *args,
            )
            ids = sorted(int(row["id"]) for row in rows)
    return ids, refused


def _refuse_owned(
    chunk: Sequence[_Ready], owned: set[tuple[int, int]], planned: set[tuple[int, int]]
) -> tuple[list[_Ready], list[GrantFailure]]:
    """Split a chunk into the lines to write and the lines whose user owns the movie for good.

    `planned` carries the pairs granted for good by earlier lines of the run,
    so a repeated line is refused as it would be one grant after the other.
    """
    fresh: list[_Ready] = []
    refused: list[GrantFailure] = []
    for ready in chunk:
        pair = (ready.user_id, ready.movie_id)
        if pair in owned or pair in planned:
            refused.append(_failure(ready.line, AlreadyOwned()))
            continue
        if ready.expires_at is None:
            planned.add(pair)
        fresh.append(ready)
    return fresh, refused


async def _grant_one_by_one(
    actor: CurrentUser, chunk: Sequence[_Ready], reason: str, now: datetime
) -> tuple[list[int], list[GrantFailure]]:
    """The slow path for a chunk that failed as a whole: each line in a transaction of its own."""
    ids: list[int] = []
    refused: list[GrantFailure] = []
    for ready in chunk:
        try:
            done = await service.grant(
                actor, ready.user_id, ready.movie_id, reason=reason, expires_at=ready.expires_at, now=now
            )
        except CinemaError as exc:
            refused.append(_failure(ready.line, exc))
        else:
            ids.append(done.id)
    return ids, refused
