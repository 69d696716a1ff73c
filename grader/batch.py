"""`torchdrill grade-many`: grade one submission per candidate, then a leaderboard.

Each entry of SUBS_DIR (a folder, or a .zip) is one candidate. `grade_one` grades a single
candidate from plain, picklable arguments and never raises, so an executor only has to map it:
the local executor is a thread pool (the heavy work happens in the grading children); another
executor (a cluster) can ship the same function to its workers.

A submission is never graded in place. `intake` copies only what the grader reads, the files
each exercise names (`<slug>/<file>.py`), into a fresh folder, and rejects what could trick the
grader: symbolic links, absolute or `..` paths in a zip, encrypted members, files over
MAX_FILE_BYTES, zips over MAX_ZIP_BYTES or declaring more than MAX_DECLARED_BYTES (bombs). The
submission may sit under one wrapper folder (`alice.zip` holding `exercises/conv2d/...`).

Timing fairness: correctness runs of many candidates share the machine, but a timing run holds
the gate alone (`_GATE`), so no candidate's speed is measured while another's checks run.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import re
import shutil
import stat
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

from grader.errors import InputError

MAX_ZIP_BYTES = 200 * 1024 * 1024      # the .zip file itself
MAX_MEMBERS = 20_000                   # entries in a zip
MAX_DECLARED_BYTES = 2 * 1024 ** 3     # sum of the sizes a zip declares (reject bombs early)
MAX_FILE_BYTES = 2 * 1024 * 1024       # one graded file (a .py file); read with a hard cap
MAX_WRAPPER_DEPTH = 3                  # alice.zip -> alice/exercises/conv2d/conv2d.py
RESERVED_NAMES = {"leaderboard"}
IGNORED_DIRS = {"__MACOSX"}


class Rejected(Exception):
    """The submission cannot be graded safely; the message says why, for the interviewer."""


# ----------------------------------------------------------------------------- the timing gate

class _Gate:
    """Many correctness runs at once, or one timing run alone (waiting timers go first)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0

    @contextmanager
    def shared(self):
        with self._cond:
            while self._exclusive or self._waiting:
                self._cond.wait()
            self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self):
        with self._cond:
            self._waiting += 1
            while self._exclusive or self._shared:
                self._cond.wait()
            self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


_GATE = _Gate()


# ----------------------------------------------------------------------------- discovery

def candidate_name(path: Path) -> str:
    stem = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-")[:60]
    return name or "candidate"


def discover(subs_dir: Path, out_dir: Path | None = None) -> list[tuple[str, Path]]:
    """(unique file-safe name, path) for every candidate folder or .zip, sorted by name."""
    out_resolved = out_dir.resolve() if out_dir else None
    found = []
    for entry in sorted(subs_dir.iterdir(), key=lambda p: p.name.lower()):
        if entry.name.startswith(".") or entry.name in IGNORED_DIRS:
            continue
        if out_resolved is not None and entry.resolve() == out_resolved:
            continue
        if entry.is_dir() or (entry.is_file() and entry.name.lower().endswith(".zip")):
            found.append(entry)
    taken: set[str] = set()
    named = []
    for entry in found:
        base = candidate_name(entry)
        name, n = base, 1
        while name.lower() in taken or name.lower() in RESERVED_NAMES:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.lower())
        named.append((name, entry))
    return named


def ignored_entries(subs_dir: Path) -> list[str]:
    """Visible entries of subs_dir that are not candidates (a .tar.gz, a note): worth a word."""
    return [e.name for e in sorted(subs_dir.iterdir())
            if not e.name.startswith(".") and e.name not in IGNORED_DIRS
            and not e.is_dir() and not (e.is_file() and e.name.lower().endswith(".zip"))]


# ----------------------------------------------------------------------------- intake

def _read_capped(fh, what: str) -> bytes:
    data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise Rejected(f"{what} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return data


def _zip_parts(info: zipfile.ZipInfo) -> list[str]:
    name = info.filename
    if info.flag_bits & 0x1:
        raise Rejected(f"zip member {name!r} is encrypted")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise Rejected(f"zip member {name!r} is a symbolic link")
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise Rejected(f"zip member {name!r} has an absolute path")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise Rejected(f"zip member {name!r} points outside the archive (..)")
    return parts


def _prefix(paths: list[list[str]], slugs: set[str]) -> list[str] | None:
    """The shortest wrapper path under which an exercise folder (a slug) appears."""
    best = None
    for parts in paths:
        if parts and parts[0] in IGNORED_DIRS:
            continue
        for i, part in enumerate(parts[:MAX_WRAPPER_DEPTH + 1]):
            if part in slugs and (best is None or i < len(best)):
                best = parts[:i]
                break
    return best


def _intake_zip(path: Path, exercises, dest: Path) -> None:
    size = path.stat().st_size
    if size > MAX_ZIP_BYTES:
        raise Rejected(f"the zip is {size / 2 ** 20:.0f} MB, over the {MAX_ZIP_BYTES // 2 ** 20} MB cap")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Rejected(f"not a readable zip file ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise Rejected(f"the zip holds {len(infos)} entries, over the {MAX_MEMBERS} cap")
        members, declared = {}, 0
        for info in infos:
            parts = _zip_parts(info)
            declared += info.file_size
            if declared > MAX_DECLARED_BYTES:
                raise Rejected("the zip declares more than "
                               f"{MAX_DECLARED_BYTES // 2 ** 30} GB of content (a zip bomb?)")
            if parts:
                members["/".join(parts)] = (info, parts)
        slugs = {ex.slug for ex in exercises}
        prefix = _prefix([p for _, p in members.values()], slugs)
        if prefix is None:
            return                                    # no exercise folder: everything missing
        present = {parts[len(prefix)] for _, parts in members.values()
                   if len(parts) > len(prefix) and parts[:len(prefix)] == prefix}
        for ex in exercises:
            if ex.slug not in present:
                continue
            (dest / ex.slug).mkdir()
            for name in ex.files:
                key = "/".join([*prefix, ex.slug, name])
                if key not in members:
                    continue
                info = members[key][0]
                if info.is_dir():
                    continue
                try:
                    with zf.open(info) as fh:
                        data = _read_capped(fh, f"{ex.slug}/{name}")
                except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                    raise Rejected(f"cannot extract {key!r} ({exc})") from None
                (dest / ex.slug / name).write_bytes(data)


def _wrapped_root(folder: Path, slugs: set[str]) -> Path:
    """Descend through single wrapper folders until exercise folders appear."""
    root = folder
    for _ in range(MAX_WRAPPER_DEPTH):
        try:
            entries = [e for e in os.scandir(root)
                       if not e.name.startswith(".") and e.name not in IGNORED_DIRS]
        except OSError as exc:
            raise Rejected(f"cannot read {root} ({exc.strerror})") from None
        if any(e.name in slugs for e in entries):
            return root
        dirs = [e for e in entries if e.is_dir(follow_symlinks=False)]
        if len(dirs) != 1 or len(entries) > 8:
            return root
        root = Path(dirs[0].path)
    return root


def _intake_dir(path: Path, exercises, dest: Path) -> None:
    root = _wrapped_root(path, {ex.slug for ex in exercises})
    for ex in exercises:
        folder = root / ex.slug
        try:
            info = os.lstat(folder)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):
            raise Rejected(f"{ex.slug}/ is a symbolic link; submit regular files")
        if not stat.S_ISDIR(info.st_mode):
            continue
        (dest / ex.slug).mkdir()
        for name in ex.files:
            src = folder / name
            try:
                info = os.lstat(src)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(info.st_mode):
                raise Rejected(f"{ex.slug}/{name} is a symbolic link; submit regular files")
            if not stat.S_ISREG(info.st_mode):
                raise Rejected(f"{ex.slug}/{name} is not a regular file")
            try:
                with open(src, "rb") as fh:
                    data = _read_capped(fh, f"{ex.slug}/{name}")
            except OSError as exc:
                raise Rejected(f"cannot read {ex.slug}/{name} ({exc.strerror})") from None
            (dest / ex.slug / name).write_bytes(data)


def intake(submission: Path, exercises, dest: Path) -> None:
    """Copy the graded files of a folder or .zip submission into the empty folder `dest`.
    Raises Rejected with a one-line reason."""
    if submission.is_file() and submission.name.lower().endswith(".zip"):
        _intake_zip(submission, exercises, dest)
    elif submission.is_dir():
        _intake_dir(submission, exercises, dest)
    else:
        raise Rejected("not a folder or a .zip file")


# ----------------------------------------------------------------------------- one candidate

def _options(options: dict):
    from grader.grading import GradeOptions
    return GradeOptions(device=options.get("device", "cpu"), timing=bool(options.get("timing", True)),
                        jobs=max(1, int(options.get("jobs", 1))),
                        audience=options.get("audience", "interviewer"))


def _grade_folder(exercises, folder: Path, gopts) -> list[dict]:
    """grading's two phases, with the batch-wide gate around each run."""
    from grader import grading
    return grading.grade_all(exercises, folder, gopts, gate=_GATE)


def _rejected_results(exercises, reason: str) -> list[dict]:
    from grader import grading
    from grader.hidden_checks import expected_checks
    results = []
    for ex in exercises:
        res = grading._empty_result(ex)
        res.update(status="error")
        res["checks"] = [grading._check(c, "failed", f"submission rejected: {reason}")
                         for c in grading._weighted(expected_checks(ex), ex)]
        res["flags"].append({"kind": "rejected-submission", "detail": reason})
        results.append(res)
    return results


def summary_row(name: str, result: dict) -> dict:
    from grader.report_view import ZEROING_FLAGS, _pct, speedup_geomean
    cells, flags, zeroing = {}, 0, 0
    for ex in result["exercises"]:
        shown = [f for f in ex["flags"] if f.get("kind") != "skipped"]
        zero = any(f.get("kind") in ZEROING_FLAGS for f in shown)
        flags += len(shown)
        zeroing += sum(f.get("kind") in ZEROING_FLAGS for f in shown)
        cells[ex["slug"]] = {"score": ex["score"], "max_score": ex["max_score"],
                             "status": ex["status"], "zeroed": zero}
    geomean, timed = speedup_geomean(result["exercises"])
    return {"candidate": name, "submission": result.get("submission", ""), "status": "graded",
            "error": "", "score": result["score"], "max_score": result["max_score"],
            "pct": round(_pct(result["score"], result["max_score"]), 3), "exercises": cells,
            "flags": flags, "zeroing_flags": zeroing,
            "speedup": None if geomean is None else round(geomean, 4), "timed_cases": timed}


def grade_one(submission_path: str, out_dir: str, options: dict) -> dict:
    """Grade one candidate; write OUT/<name>.json and OUT/<name>.html; return a leaderboard
    row. Never raises: a rejected submission is graded as errors with the reason, a grader
    failure becomes a row with status "error".

    options: name (file stem), slugs (list, empty = all), device ("cpu"/"cuda", resolved),
    timing (bool), jobs (candidates graded at once, sets threads per child), audience,
    root (TORCHDRILL_ROOT for workers that do not inherit it). Plain values only: picklable.
    """
    started_wall = time.monotonic()
    submission = Path(submission_path)
    name = options.get("name") or candidate_name(submission)
    row = {"candidate": name, "submission": str(submission), "status": "error", "error": "",
           "score": 0.0, "max_score": 0.0, "pct": 0.0, "exercises": {}, "flags": 0,
           "zeroing_flags": 0, "speedup": None, "timed_cases": 0, "duration_s": 0.0,
           "json": None, "html": None}
    clean = None
    try:
        from grader import grading, report
        from grader.catalogue import load_catalogue, select
        from grader.sources import attach_sources, scrub
        if options.get("root") and os.environ.get("TORCHDRILL_ROOT") != options["root"]:
            os.environ["TORCHDRILL_ROOT"] = options["root"]
        exercises = select(load_catalogue(), options.get("slugs") or [])
        gopts = _options(options)
        started = _dt.datetime.now(_dt.timezone.utc)
        clean = Path(tempfile.mkdtemp(prefix="torchdrill-intake-"))
        try:
            intake(submission, exercises, clean)
            results = _grade_folder(exercises, clean, gopts)
        except Rejected as exc:
            results = _rejected_results(exercises, str(exc))
        result = grading.build_result(results, submission, gopts, started)
        attach_sources(result, exercises, clean)
        scrub(result)
        out = Path(out_dir)
        report.write_json(result, out / f"{name}.json")
        report.write_html(result, out / f"{name}.html", gopts.audience)
        row.update(summary_row(name, result), json=f"{name}.json", html=f"{name}.html")
        rejected = [f["detail"] for ex in result["exercises"] for f in ex["flags"]
                    if f["kind"] == "rejected-submission"]
        if rejected:
            row.update(status="rejected", error=rejected[0])
    except Exception as exc:  # noqa: BLE001 - one candidate's failure never stops the batch
        row.update(status="error", error=f"grader failed: {type(exc).__name__}: {exc}"[:500])
    finally:
        if clean is not None:
            shutil.rmtree(clean, ignore_errors=True)
    row["duration_s"] = round(time.monotonic() - started_wall, 2)
    return row


# ----------------------------------------------------------------------------- executors

def _run_local(tasks: list[tuple[str, str, dict]], jobs: int, on_done, on_start=None) -> list[dict]:
    """Threads: each grade_one spends its time waiting on its grading children.

    An executor takes the (submission, out_dir, options) argument tuples of grade_one, calls
    on_start(name) when a candidate starts (optional) and on_done(row) as each finishes, and
    returns the rows."""
    def one(task):
        if on_start:
            on_start(task[2]["name"])
        return grade_one(*task)

    rows = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, task): task for task in tasks}
        for future in as_completed(futures):
            row = future.result()
            rows.append(row)
            on_done(row)
    return rows


def _run_dask(tasks, jobs, on_done, on_start=None, **executor_options):
    """One dask task per candidate (grader/cluster.py; needs the "cluster" extra)."""
    from grader import cluster
    return cluster.run_dask(tasks, jobs, on_done, on_start, **executor_options)


EXECUTORS = {"local": _run_local, "dask": _run_dask}


def run_batch(subs_dir: Path, out_dir: Path, options: dict, jobs: int,
              executor: str = "local", progress=None, starting=None,
              executor_options: dict | None = None) -> list[dict]:
    """Grade every candidate of subs_dir; write their reports and the leaderboard; return
    the rows, best first. `progress(done, total, row)` is called as each candidate finishes,
    `starting(name)` as each starts."""
    if executor not in EXECUTORS:
        raise InputError(f"unknown executor {executor!r}; available: {', '.join(EXECUTORS)}")
    exercises = _exercise_columns(options)          # an unknown slug fails here, once
    candidates = discover(subs_dir, out_dir)
    if not candidates:
        raise InputError(f"{subs_dir}: no submissions (expected one folder or .zip per candidate)")
    root = os.environ.get("TORCHDRILL_ROOT")
    tasks = [(str(path.resolve()), str(out_dir.resolve()),
              dict(options, name=name, jobs=jobs, root=root)) for name, path in candidates]
    done = [0]

    def on_done(row):
        done[0] += 1
        if progress:
            progress(done[0], len(tasks), row)

    started = _dt.datetime.now(_dt.timezone.utc)
    rows = EXECUTORS[executor](tasks, jobs, on_done, starting, **(executor_options or {}))
    rows = sort_rows(rows)
    write_leaderboard(rows, exercises, out_dir, options, started)
    return rows


def sort_rows(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["status"] == "error", -r.get("pct", 0.0),
                                       r["candidate"].lower()))


# ----------------------------------------------------------------------------- leaderboard

def _exercise_columns(options: dict) -> list[dict]:
    from grader.catalogue import load_catalogue, select
    return [{"slug": ex.slug, "title": ex.title, "max_score": ex.points}
            for ex in select(load_catalogue(), options.get("slugs") or [])]


def _csv_safe(value):
    """Spreadsheets run cells starting with = + - @ as formulas; candidate names are input."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: list[dict], exercises: list[dict]) -> str:
    from grader.report_view import leaderboard_view
    view = leaderboard_view(rows, exercises, {})
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["rank", "candidate", "status", "score", "max_score", "percent",
                     *[ex["slug"] for ex in exercises], "flags", "zeroing_flags",
                     "speedup_geomean", "timed_cases", "duration_s", "report", "error"])
    for row in view["rows"]:
        cells = [(row["exercises"].get(ex["slug"]) or {}).get("score", "") for ex in exercises]
        writer.writerow([row["rank"], _csv_safe(row["candidate"]), row["status"],
                         f'{row["score"]:g}', f'{row["max_score"]:g}', f'{row["pct"]:.1f}',
                         *[c if c == "" else f"{c:g}" for c in cells], row["flags"],
                         row["zeroing_flags"],
                         "" if row["speedup"] is None else f'{row["speedup"]:.3f}',
                         row["timed_cases"], f'{row["duration_s"]:.1f}', row["html"] or "",
                         _csv_safe(row["error"])])
    return buf.getvalue()


def render_leaderboard(rows: list[dict], exercises: list[dict], meta: dict) -> str:
    import jinja2
    from grader.report_view import leaderboard_view
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    return env.get_template("leaderboard.html.j2").render(**leaderboard_view(rows, exercises, meta))


def write_leaderboard(rows: list[dict], exercises: list[dict], out_dir: Path, options: dict,
                      started) -> None:
    from grader import __version__
    from grader.report import _write_atomic
    meta = {"created": started.isoformat(timespec="seconds"), "version": __version__,
            "candidates": len(rows), "device": options.get("device", "cpu"),
            "timing": bool(options.get("timing", True)),
            "graded": sum(r["status"] == "graded" for r in rows),
            "problems": sum(r["status"] != "graded" for r in rows)}
    _write_atomic(out_dir / "leaderboard.csv", to_csv(rows, exercises))
    _write_atomic(out_dir / "leaderboard.html", render_leaderboard(rows, exercises, meta))


def prepare_out_dir(out_dir: Path) -> None:
    """Create OUT; refuse a non-empty folder unless it holds an earlier leaderboard."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / "leaderboard.csv").exists():
        raise InputError(f"{out_dir}: not empty and not an earlier grade-many output; "
                         "choose an empty or new folder")
    out_dir.mkdir(parents=True, exist_ok=True)
