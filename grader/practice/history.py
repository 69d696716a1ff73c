"""The candidate's local practice history (runs, check outcomes, hints seen) in one SQLite file."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import platformdirs

# --- location -------------------------------------------------------------------------------

HISTORY_FILE = "history.sqlite3"
HOME_ENV = "TORCHDRILL_HOME"

# Bump when the tables change, and teach _open_checked to migrate from the older number;
# a file whose user_version we do not know is treated as foreign and moved aside.
SCHEMA_VERSION = 1

# Outcomes a check can have in a result JSON (timeout comes from the runner, not pytest).
CHECK_OUTCOMES = ("passed", "failed", "skipped", "error", "timeout")

# Statuses that mean "the candidate did not attempt this exercise": nothing to remember.
NOT_ATTEMPTED = ("missing", "skipped", "not-attempted")


def default_history_path() -> Path:
    """$TORCHDRILL_HOME/history.sqlite3, else the per-user data folder (XDG_DATA_HOME on Linux)."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser() / HISTORY_FILE
    # platformdirs reads XDG_DATA_HOME itself on Linux, and knows macOS/Windows conventions.
    return Path(platformdirs.user_data_dir("torchdrill", appauthor=False)) / HISTORY_FILE


# --- time -----------------------------------------------------------------------------------


def utc(moment: datetime | None) -> datetime:
    """moment (default: now) as an aware UTC datetime; a naive one is taken to be UTC already."""
    if moment is None:
        return datetime.now(timezone.utc)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _stamp(moment: datetime | None) -> str:
    # Second precision and one fixed offset, so that text order equals time order in SQL.
    return utc(moment).isoformat(timespec="seconds")


# --- rows handed to callers -------------------------------------------------------------------


@dataclass(frozen=True)
class CheckOutcome:
    check_id: str
    name: str
    outcome: str


@dataclass(frozen=True)
class Run:
    """One `check` (public tests; no score) or one exercise of one `grade` (hidden checks)."""

    id: int
    time: datetime
    kind: str               # 'check' | 'grade'
    workspace: str
    slug: str
    score: float | None     # None for kind 'check'
    max_score: float | None
    passed: bool            # check: public tests pass; grade: full score
    checks: tuple[CheckOutcome, ...] = ()


# --- schema ---------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id        INTEGER PRIMARY KEY,
    time      TEXT    NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('check', 'grade')),
    workspace TEXT    NOT NULL,
    slug      TEXT    NOT NULL,
    score     REAL,
    max_score REAL,
    passed    INTEGER NOT NULL CHECK (passed IN (0, 1))
);
CREATE INDEX IF NOT EXISTS runs_by_slug ON runs (slug, time);
CREATE TABLE IF NOT EXISTS checks (
    run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    check_id   TEXT    NOT NULL,
    check_name TEXT    NOT NULL,
    outcome    TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS checks_by_run ON checks (run_id);
CREATE TABLE IF NOT EXISTS hints_seen (
    slug       TEXT    NOT NULL,
    hint_index INTEGER NOT NULL,   -- 0-based position in exercise.toml's [[hints]]
    time       TEXT    NOT NULL,
    PRIMARY KEY (slug, hint_index)
);
"""

# What a healthy version-1 file holds; compared column by column to catch a foreign file
# that happens to carry the same user_version.
_EXPECTED_COLUMNS = {
    "runs": ["id", "time", "kind", "workspace", "slug", "score", "max_score", "passed"],
    "checks": ["run_id", "check_id", "check_name", "outcome"],
    "hints_seen": ["slug", "hint_index", "time"],
}


class _Unusable(Exception):
    """The file is not a history we can read; the message says why, for History.note."""


def _connect(path: Path) -> sqlite3.Connection:
    # timeout: a `grade` in another terminal may hold the write lock for a moment.
    conn = sqlite3.connect(path, timeout=5.0)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _open_checked(path: Path) -> sqlite3.Connection:
    """Connect and make sure the file holds our schema (creating it in an empty file)."""
    conn = _connect(path)
    try:
        # The first statement is where "file is not a database" surfaces.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 0 and not tables:
            # One explicit transaction (executescript would autocommit each statement); with
            # IF NOT EXISTS a second process creating the same new file at once is harmless.
            conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} "
                               f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
            return _tune(conn)
        if version != SCHEMA_VERSION:
            raise _Unusable(f"schema version {version}, expected {SCHEMA_VERSION}")
        for table, columns in _EXPECTED_COLUMNS.items():
            found = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            if found != columns:
                raise _Unusable(f"table {table} is missing or has other columns")
        # A torn write leaves pages that only fail when read; the history is small, so a
        # quick_check on open costs well under a millisecond.
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise _Unusable("SQLite integrity check failed")
        return _tune(conn)
    except sqlite3.OperationalError:
        # Locked, busy, read-only, I/O: a healthy file we cannot use right now. Moving it
        # aside would throw the candidate's history away, so let the error through.
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:      # SQLITE_NOTADB, SQLITE_CORRUPT
        conn.close()
        raise _Unusable(str(exc)) from None
    except _Unusable:
        conn.close()
        raise


def _tune(conn: sqlite3.Connection) -> sqlite3.Connection:
    # WAL: `progress` can read while a `grade` in another terminal writes, and with
    # synchronous=NORMAL a commit costs no fsync (a rollback journal paid ~17 ms per write).
    # A power cut may lose the last run or two; the file itself stays consistent.
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _move_aside(path: Path, now: datetime | None) -> Path:
    """Rename path (and SQLite's sidecar files) to <name>.corrupt-<UTC time>; return the new name."""
    stamp = utc(now).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():     # two recoveries in one second must not overwrite each other
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, target)
    # A leftover hot journal would be replayed into the fresh file; it belongs to the old one.
    for suffix in ("-journal", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


# --- the history object -----------------------------------------------------------------------


class History:
    """An open history file. Use open_history(); close() it, or use it as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path, note: str | None = None):
        self._conn = conn
        self.path = path
        # One line for the CLI to print when something happened on open (file recreated).
        self.note = note

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # writing

    def record_grade(self, result: dict, workspace: str, now: datetime | None = None) -> list[int]:
        """One run per attempted exercise of a result JSON (schema 1); returns the new run ids."""
        if not isinstance(result, dict) or not isinstance(result.get("exercises"), list):
            raise ValueError("record_grade: not a torchdrill result (no 'exercises' list)")
        schema = result.get("schema", 1)
        if schema != 1:
            raise ValueError(f"record_grade: result schema {schema} is not supported (expected 1)")
        stamp, workspace = _stamp(now), _workspace(workspace)
        ids = []
        with self._conn:       # one transaction: a result is recorded whole or not at all
            for ex in result["exercises"]:
                if not _attempted(ex):
                    continue
                score, max_score = float(ex.get("score", 0.0)), float(ex.get("max_score", 0.0))
                passed = max_score > 0 and score >= max_score - 1e-9
                cur = self._conn.execute(
                    "INSERT INTO runs (time, kind, workspace, slug, score, max_score, passed) "
                    "VALUES (?, 'grade', ?, ?, ?, ?, ?)",
                    (stamp, workspace, _slug(ex.get("slug")), score, max_score, int(passed)))
                ids.append(cur.lastrowid)
                self._conn.executemany(
                    "INSERT INTO checks (run_id, check_id, check_name, outcome) VALUES (?, ?, ?, ?)",
                    [(cur.lastrowid, str(c.get("id", "")), str(c.get("name", c.get("id", ""))),
                      str(c.get("outcome", "error"))) for c in ex.get("checks", [])])
        return ids

    def record_check(self, slug: str, workspace: str, passed: bool,
                     now: datetime | None = None) -> int:
        """One `torchdrill check` of one exercise (public tests pass or not); returns the run id."""
        with self._conn:
            cur = self._conn.execute(
                "INSERT INTO runs (time, kind, workspace, slug, score, max_score, passed) "
                "VALUES (?, 'check', ?, ?, NULL, NULL, ?)",
                (_stamp(now), _workspace(workspace), _slug(slug), int(bool(passed))))
        return cur.lastrowid

    def mark_hint(self, slug: str, index: int, now: datetime | None = None) -> None:
        """Remember that hint `index` (0-based) of slug was shown; the first time seen is kept."""
        if not isinstance(index, int) or index < 0:
            raise ValueError(f"mark_hint: hint index must be an int >= 0, got {index!r}")
        with self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO hints_seen (slug, hint_index, time) VALUES (?, ?, ?)",
                (_slug(slug), index, _stamp(now)))

    # reading

    def hints_seen(self, slug: str) -> list[int]:
        """0-based indices of slug's hints already shown, ascending."""
        rows = self._conn.execute(
            "SELECT hint_index FROM hints_seen WHERE slug = ? ORDER BY hint_index", (_slug(slug),))
        return [r[0] for r in rows]

    def runs(self, slug: str | None = None, kind: str | None = None) -> list[Run]:
        """Runs oldest first, optionally of one exercise and/or one kind, each with its checks."""
        if kind not in (None, "check", "grade"):
            raise ValueError(f"runs: kind must be 'check' or 'grade', got {kind!r}")
        where, args = [], []
        if slug is not None:
            where.append("slug = ?")
            args.append(_slug(slug))
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._conn.execute(
            "SELECT id, time, kind, workspace, slug, score, max_score, passed FROM runs "
            f"{clause} ORDER BY time, id", args).fetchall()
        # Fetch the checks of exactly these runs in one query rather than one per run.
        checks: dict[int, list[CheckOutcome]] = {}
        if rows:
            for run_id, check_id, name, outcome in self._conn.execute(
                    "SELECT run_id, check_id, check_name, outcome FROM checks WHERE run_id IN "
                    f"(SELECT id FROM runs {clause}) ORDER BY rowid", args):
                checks.setdefault(run_id, []).append(CheckOutcome(check_id, name, outcome))
        return [Run(id=r[0], time=datetime.fromisoformat(r[1]), kind=r[2], workspace=r[3],
                    slug=r[4], score=r[5], max_score=r[6], passed=bool(r[7]),
                    checks=tuple(checks.get(r[0], ()))) for r in rows]


def _attempted(exercise: dict) -> bool:
    if exercise.get("status") in NOT_ATTEMPTED:
        return False
    # A graded exercise whose every check was skipped (a requirement such as triton is not
    # installed) says nothing about the candidate.
    outcomes = [c.get("outcome") for c in exercise.get("checks", [])]
    return not outcomes or any(o != "skipped" for o in outcomes)


def _slug(slug) -> str:
    if not isinstance(slug, str) or not slug:
        raise ValueError(f"exercise slug must be a non-empty string, got {slug!r}")
    return slug


def _workspace(workspace) -> str:
    # Absolute, so runs from `grade work` and `grade ./work` in different folders compare equal.
    return str(Path(workspace).expanduser().resolve())


# --- opening ----------------------------------------------------------------------------------


def open_history(path: str | os.PathLike | None = None, now: datetime | None = None) -> History:
    """Open (creating folder and file as needed) the history at path or default_history_path().

    A file that is not a torchdrill history is renamed to <name>.corrupt-<UTC time> and a fresh
    one created; History.note then says so in one line. Nothing else is ever deleted.
    """
    path = Path(path) if path is not None else default_history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return History(_open_checked(path), path)
    except _Unusable as why:
        moved = _move_aside(path, now)
        why = " ".join(str(why).split())       # the note stays on one line
        note = (f"note: {path} could not be read ({why}); moved it to {moved.name} "
                "and started a new history")
        return History(_open_checked(path), path, note=note)


def record_safely(action, warn, path: str | os.PathLike | None = None) -> None:
    """Run action(history) on the open history; any failure is one warning line via warn(),
    never an error: the history must not fail the command that records into it."""
    try:
        with open_history(path) as hist:
            if hist.note:
                warn(hist.note)
            action(hist)
    except Exception as exc:  # noqa: BLE001 - a broken history costs a warning, not the command
        why = " ".join(str(exc).split())
        warn(f"warning: practice history not updated ({type(exc).__name__}: {why})")
