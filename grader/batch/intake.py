"""Candidates' submissions in: discovery, safe unpacking of zips and folders, with limits."""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path


MAX_ZIP_BYTES = 200 * 1024 * 1024      # the .zip file itself
MAX_MEMBERS = 20_000                   # entries in a zip
MAX_DECLARED_BYTES = 2 * 1024 ** 3     # sum of the sizes a zip declares (reject bombs early)
MAX_FILE_BYTES = 2 * 1024 * 1024       # one graded file (a .py file); read with a hard cap
MAX_WRAPPER_DEPTH = 3                  # alice.zip -> alice/exercises/conv2d/conv2d.py
RESERVED_NAMES = {"leaderboard", "similarity"}   # the batch's own pages in OUT/
IGNORED_DIRS = {"__MACOSX"}
TIMEBOX_DIR = ".torchdrill"            # a time-boxed kit's log, beside the exercise folders
TIMEBOX_FILES = ("timebox.json", "timebox.jsonl", "timebox.head")   # practice/watch.py names them


class Rejected(Exception):
    """The submission cannot be graded safely; the message says why, for the interviewer."""

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
        for name in TIMEBOX_FILES:
            info = members.get("/".join([*prefix, TIMEBOX_DIR, name]), (None,))[0]
            if info is not None and not info.is_dir():
                _copy_log(lambda: zf.open(info), dest, name)
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


def _copy_log(opener, dest: Path, name: str) -> None:
    """Copy one time-box log file, capped (one byte over the cap tells the grader it was cut);
    a log that cannot be read is left out: the timeline then says so, the grade is unaffected."""
    try:
        with opener() as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        return
    (dest / TIMEBOX_DIR).mkdir(exist_ok=True)
    (dest / TIMEBOX_DIR / name).write_bytes(data)


def _intake_dir(path: Path, exercises, dest: Path) -> None:
    root = _wrapped_root(path, {ex.slug for ex in exercises})
    for name in TIMEBOX_FILES:
        src = root / TIMEBOX_DIR / name
        if not os.path.islink(src) and not os.path.islink(root / TIMEBOX_DIR) and src.is_file():
            _copy_log(lambda: open(src, "rb"), dest, name)
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


# ----------------------------------------------------------------------------- as data

def read_submission(submission: Path, exercises) -> dict:
    """The graded files of a submission as data, read through `intake` with its limits, so it
    can be graded where the submission's path means nothing (a cluster worker):
    {"files": {"slug/name.py": bytes}}, or {"rejected": reason}."""
    import shutil
    import tempfile
    clean = Path(tempfile.mkdtemp(prefix="torchdrill-intake-"))
    try:
        intake(submission, exercises, clean)
        return {"files": {p.relative_to(clean).as_posix(): p.read_bytes()
                          for p in sorted(clean.rglob("*")) if p.is_file()}}
    except Rejected as exc:
        return {"rejected": str(exc)}
    finally:
        shutil.rmtree(clean, ignore_errors=True)


def write_submission(payload: dict, dest: Path) -> None:
    """Recreate read_submission's files under the empty folder `dest` (slug/name.py only)."""
    for rel, data in payload.get("files", {}).items():
        parts = rel.split("/")
        if len(parts) != 2 or any(p in ("", ".", "..") for p in parts):
            raise Rejected(f"malformed submission entry {rel!r}")   # never from read_submission
        (dest / parts[0]).mkdir(exist_ok=True)
        (dest / parts[0] / parts[1]).write_bytes(data)


def payload_hash(payload: dict) -> str:
    """"sha256:<hex>" of what is graded: unchanged files, unchanged hash (for --resume)."""
    import hashlib
    digest = hashlib.sha256(b"torchdrill-submission-1\0")
    if "rejected" in payload:
        digest.update(b"rejected\0" + payload["rejected"].encode())
    for rel, data in sorted(payload.get("files", {}).items()):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return "sha256:" + digest.hexdigest()
