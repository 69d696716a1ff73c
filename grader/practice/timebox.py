"""Time-boxed kits, the grader's side: `--time-box 3h`, the kit's settings, and checking the
hash-chained log a kit's run_checks.py writes (practice/watch.py) into the result's `timeline`.

Tamper-evident, not tamper-proof: the candidate's machine writes the log, so whoever holds the
files can recompute every hash and set any clock. What a check here can show is an edited or
cut log, times that go backwards, a log that does not match the submitted files, and a last run
after the box ended. None of it changes a score: the flags are for the interviewer to weigh.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from pathlib import Path

from grader.engine.sources import scrub
from grader.errors import InputError
from grader.kinds import TimeBox
from grader.practice.watch import (FIRST_PREV, HEAD_FILE, KIT_FILE, LOG_FILE, TIMEBOX_DIR,
                                   file_sha256, fmt_duration, line_hash, utc_text)

MIN_BOX_S, MAX_BOX_S = 60.0, 14 * 24 * 3600.0
MAX_LOG_BYTES = 2 * 1024 * 1024      # as batch intake's cap on a file: a longer log is read in part
CLOCK_SLACK_S = 2.0                   # an NTP nudge moves a clock by less than this; a person by more
FUTURE_SLACK_S = 300.0                # entries later than the grade itself, past this, are flagged
MAX_PER_KIND = 3                      # one removed line renumbers every later one: say it once or so
MAX_MARKS = 2000                      # runs drawn on the strip
LOG_PATH = f"{TIMEBOX_DIR}/{LOG_FILE}"
HONESTY = ("Tamper-evident, not tamper-proof: the candidate's own machine wrote this log, and "
           "whoever holds the files can rewrite the whole chain and set any clock. An edited or "
           "cut log, a clock that went backwards and files that differ from the last run show; "
           "a careful rewrite does not. Flags here never change the score.")
_UNIT = {"h": 3600, "hr": 3600, "hrs": 3600, "m": 60, "min": 60, "mins": 60, "s": 1, "sec": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)([a-z]+)")


def parse_time_box(text: str) -> float:
    """'3h', '90m', '2h30m', '1.5h' -> seconds; anything else is a one-line InputError."""
    raw = str(text).strip().lower().replace(" ", "")
    parts = _PART.findall(raw)
    if not raw or "".join(n + u for n, u in parts) != raw or any(u not in _UNIT for _, u in parts):
        raise InputError(f"--time-box {text!r}: give a duration such as 3h, 90m or 2h30m")
    seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    if not MIN_BOX_S <= seconds <= MAX_BOX_S:
        raise InputError(f"--time-box {text!r}: must be between 1 min and 14 days")
    return seconds


def kit_settings(exercises, time_box_s: float) -> dict:
    """What `kit --time-box` writes to exercises/.torchdrill/timebox.json. The kit id is fresh
    per kit, so a log started in another kit does not match this one's settings."""
    now = time.time()
    return {"format": 1, "kit_id": secrets.token_hex(8), "time_box_s": float(time_box_s),
            "created": utc_text(now), "created_t": now,
            "files": {ex.slug: list(ex.files) for ex in exercises}}


def _num(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _read_bytes(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_LOG_BYTES + 1)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _read_json(path: Path):
    data = _read_bytes(path)
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        return ValueError        # there, but not JSON: not the same as absent


class _Flags(list):
    def add(self, kind: str, detail: str) -> None:
        same = sum(f["kind"] == kind for f in self)
        if same < MAX_PER_KIND:
            self.append({"kind": kind, "detail": detail})
        elif same == MAX_PER_KIND:
            self.append({"kind": kind, "detail": "and more of the same kind further down the log"})


def _chain(data: bytes, flags: _Flags) -> tuple[list[str], list[tuple[int, dict]]]:
    """The log's whole lines, and (line number, entry) for every line that is an entry; every
    break of the chain becomes a flag."""
    if len(data) > MAX_LOG_BYTES:
        flags.add(TimeBox.TRUNCATED, "the log is over 2 MB; only its first 2 MB were read")
        data = data[:MAX_LOG_BYTES]
    # a canonical line never holds a raw \r: one before the \n is a line-ending conversion
    lines = [line[:-1] if line.endswith("\r") else line
             for line in data.decode("utf-8", errors="replace").split("\n")]
    tail = lines.pop()                  # '' when the log ends with a newline, as written
    if tail:
        flags.add(TimeBox.TRUNCATED, f"line {len(lines) + 1}, the last, is cut off in the middle "
                                     "(the log was truncated, or edited by hand)")
    entries = []
    for i, raw in enumerate(lines, 1):
        expected = line_hash(lines[i - 2]) if i > 1 else FIRST_PREV
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            flags.add(TimeBox.CHAIN, f"line {i} is not a log entry (edited or damaged)")
            continue
        if entry.get("prev") != expected:
            flags.add(TimeBox.CHAIN, f"line {i} does not follow line {i - 1}: line {i - 1} was "
                                     "edited, or lines were removed or inserted there"
                      if i > 1 else "line 1 does not start a chain (lines were removed before it)")
        if entry.get("n") != i - 1:
            flags.add(TimeBox.CHAIN, f"line {i} carries number {entry.get('n')!r}, not {i - 1}: "
                                     "entries were removed, inserted or reordered")
        entries.append((i, entry))
    return lines, entries


def _head(box: Path, lines: list[str], flags: _Flags) -> None:
    """The head file records the count and last hash: cutting whole lines off the end shows."""
    head = _read_json(box / HEAD_FILE)
    if not isinstance(head, dict):
        flags.add(TimeBox.TRUNCATED, f"the log's head ({TIMEBOX_DIR}/{HEAD_FILE}) is missing or "
                                     "unreadable: whether lines were cut off the end cannot be told")
        return
    count, last = head.get("entries"), head.get("last")
    if isinstance(count, int) and not isinstance(count, bool) and count > len(lines):
        flags.add(TimeBox.TRUNCATED, f"the log holds {len(lines)} lines but its head records "
                                     f"{count}: lines were removed from the end")
    elif count != len(lines) or last != (line_hash(lines[-1]) if lines else None):
        flags.add(TimeBox.CHAIN, "the log's last line does not match its head: the last line "
                                 "was edited, or lines were added by hand")


def _times(entries, kit: dict, now: float, flags: _Flags) -> list[tuple[int, dict, float]]:
    """(line, entry, t) for entries with a time; clocks going backwards, before the kit was
    made or ahead of the grade are flagged."""
    timed, last = [], None
    made = _num(kit.get("created_t"))
    for i, entry in entries:
        t = _num(entry.get("t"))
        if t is None:
            flags.add(TimeBox.CHAIN, f"line {i} has no time")
            continue
        if last is not None and t < last[1] - CLOCK_SLACK_S:
            flags.add(TimeBox.CLOCK, f"line {i} ({utc_text(t)}) is {fmt_duration(last[1] - t)} "
                                     f"earlier than line {last[0]}: the clock went backwards "
                                     "(set by hand, or a jump of the system clock)")
        if made is not None and t < made - CLOCK_SLACK_S:
            flags.add(TimeBox.CLOCK, f"line {i} ({utc_text(t)}) is timed before the kit was made "
                                     f"({utc_text(made)})")
        if t > now + FUTURE_SLACK_S:
            flags.add(TimeBox.CLOCK, f"line {i} ({utc_text(t)}) is timed after this grade ran "
                                     "(the clock was ahead)")
        timed.append((i, entry, t))
        last = (i, t) if last is None or t >= last[1] else last
    return timed


def _submitted(folder: Path, exercises) -> dict:
    """'slug/file' -> SHA-256 (None: absent) of the graded files, by the catalogue's own names."""
    return {f"{ex.slug}/{name}": file_sha256(folder / ex.slug / name)
            for ex in exercises for name in ex.files}


def verify(folder: Path, exercises, expected_box_s: float | None = None,
           now: float | None = None) -> dict | None:
    """The result's `timeline` for a submission folder; None when it is not time-boxed (no
    settings, no log) and no box was expected. Never raises for anything in the folder."""
    now = time.time() if now is None else now
    box = folder / TIMEBOX_DIR
    kit_raw = _read_json(box / KIT_FILE)
    log = _read_bytes(box / LOG_FILE)
    if kit_raw is None and log is None and expected_box_s is None:
        return None
    flags = _Flags()
    kit = kit_raw if isinstance(kit_raw, dict) else {}
    if kit_raw is not None and not kit:
        flags.add(TimeBox.KIT, f"the kit's time-box settings ({TIMEBOX_DIR}/{KIT_FILE}) are "
                               "not readable")
    kit_box = _num(kit.get("time_box_s"))
    out = {"time_box_s": expected_box_s or kit_box, "kit_id": kit.get("kit_id") if isinstance(
               kit.get("kit_id"), str) else None,
           "chain": "absent", "entries": 0, "runs": 0, "started": None, "started_via": None,
           "last_run": None, "elapsed_s": None, "last_edit": None, "edited_after_last_run": False,
           "first_pass": {}, "run_marks": [], "flags": flags, "note": HONESTY}
    if expected_box_s and kit_box and abs(expected_box_s - kit_box) > 1:
        flags.add(TimeBox.KIT, f"--time-box is {fmt_duration(expected_box_s)} but the kit's "
                               f"settings say {fmt_duration(kit_box)}; measured against "
                               f"{fmt_duration(expected_box_s)}")
    if log is None:
        flags.add(TimeBox.NO_LOG, f"no time-box log in the submission ({LOG_PATH} beside the "
                                  "exercise folders): no timeline can be shown; the grade is "
                                  "not affected")
        out["flags"] = list(flags)
        return out
    lines, entries = _chain(log, flags)
    _head(box, lines, flags)
    out["entries"] = len(entries)
    timed = _times(entries, kit, now, flags)
    _fill(out, timed, kit, _submitted(folder, exercises), flags)
    out["chain"] = "broken" if any(f["kind"] in TimeBox.BREAKS_CHAIN for f in flags) else "intact"
    out["flags"] = list(flags)
    return out


def _fill(out: dict, timed, kit: dict, submitted: dict, flags: _Flags) -> None:
    """Start, runs, first passes, last edit, elapsed time against the box, and the file match."""
    if not timed:
        flags.add(TimeBox.CHAIN, "the log holds no usable entry")
        return
    first_line, first, t0 = timed[0]
    if first.get("event") != "start" or first_line != 1:
        flags.add(TimeBox.CHAIN, "the log does not begin with its start entry")
    elif isinstance(kit.get("kit_id"), str) and first.get("kit_id") != kit["kit_id"]:
        flags.add(TimeBox.KIT, f"the log was started by kit {str(first.get('kit_id'))[:40]!r}, "
                               f"not by this kit ({kit['kit_id']}): it belongs to another kit")
    start_box = _num(first.get("time_box_s"))
    if start_box and _num(kit.get("time_box_s")) and abs(start_box - kit["time_box_s"]) > 1:
        flags.add(TimeBox.KIT, f"the log's start records a {fmt_duration(start_box)} box, the "
                               f"kit's settings {fmt_duration(kit['time_box_s'])}")
    box = out["time_box_s"] or start_box
    out.update(time_box_s=box, started=utc_text(t0), started_via=str(first.get("via", ""))[:80])
    if isinstance(first.get("kit_id"), str):
        out["kit_id"] = first["kit_id"][:40]       # what the log says: compare with `kit`'s output
    files_before, last_files, last_line, last_t = first.get("files"), None, first_line, t0
    for i, entry, t in timed:
        files = entry.get("files")
        if isinstance(files, dict):
            if i != first_line and files != files_before:
                out["last_edit"] = {"at_s": round(t - t0, 3), "time": utc_text(t), "line": i}
            files_before, last_files, last_line, last_t = files, files, i, t
        if entry.get("event") != "run":
            continue
        out["runs"] += 1
        passed = [s for s in entry.get("passed") or () if isinstance(s, str)][:200]
        failed = [s for s in entry.get("failed") or () if isinstance(s, str)][:200]
        for slug in passed:
            out["first_pass"].setdefault(slug[:60], {"at_s": round(t - t0, 3), "time": utc_text(t),
                                                     "line": i})
        if len(out["run_marks"]) < MAX_MARKS:
            out["run_marks"].append({"at_s": round(t - t0, 3), "passed": len(passed),
                                     "failed": len(failed)})
    end = max(t for _, _, t in timed)
    out.update(last_run=utc_text(timed[-1][2]), elapsed_s=round(end - t0, 3))
    if box and end - t0 > box:
        flags.add(TimeBox.OVERRUN, f"the last logged run came {fmt_duration(end - t0)} after the "
                                   f"start: {fmt_duration(end - t0 - box)} past the "
                                   f"{fmt_duration(box)} box")
    logged = last_files or {}
    differ = [k for k, digest in submitted.items()
              if logged.get(k) != digest and not (digest is None and k not in logged)]
    if differ:
        out["edited_after_last_run"] = True
        names = ", ".join(differ[:3]) + (f" and {len(differ) - 3} more" if len(differ) > 3 else "")
        flags.add(TimeBox.FILES, f"{names} {'differs' if len(differ) == 1 else 'differ'} from what "
                                 f"the last logged run saw (line {last_line}, "
                                 f"{utc_text(last_t)}): changed after the last run of the checks, "
                                 "or the log belongs to other work")


def attach_timeline(result: dict, folder: Path, exercises, expected_box_s: float | None = None,
                    now: float | None = None) -> dict | None:
    """Put the timeline (when there is one) into the result; a failure reading the log costs
    the timeline a flag, never the grade."""
    try:
        timeline = verify(folder, exercises, expected_box_s, now)
    except Exception as exc:  # noqa: BLE001 - the log is the candidate's file: never lose a grade to it
        timeline = {"time_box_s": expected_box_s, "kit_id": None, "chain": "absent", "entries": 0,
                    "runs": 0, "flags": [{"kind": TimeBox.NO_LOG, "detail": "the time-box log "
                                          f"could not be read ({type(exc).__name__})"}],
                    "note": HONESTY}
    if timeline is not None:
        result["timeline"] = scrub(timeline)      # the log's strings may hold lone surrogates
    return timeline


def summary_line(timeline: dict) -> str:
    """One line for the terminal: chain, elapsed against the box, runs, flag count."""
    box, used = timeline.get("time_box_s"), timeline.get("elapsed_s")
    parts = [f"chain {timeline.get('chain')}"]
    if used is not None:
        parts.append(f"{fmt_duration(used)}" + (f" of {fmt_duration(box)}" if box else ""))
    parts.append(f"{timeline.get('runs', 0)} run(s)")
    flags = timeline.get("flags") or []
    if flags:
        parts.append(f"{len(flags)} flag(s): {flags[0]['kind']}: {flags[0]['detail']}")
    return ", ".join(parts)
