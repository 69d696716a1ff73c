"""The catalogue as data: its content hash, a packed archive of it, and a verified unpack into a cache.

A batch graded on a cluster must be graded with exactly the client's exercises, hidden checks
and references. The hash names that catalogue (with the grader version, which decides how the
checks run); a worker unpacks the client's archive into `<cache>/catalogues/<hash>/` and
re-hashes what it unpacked with its own grader version, so a worker whose grader differs, or
whose cache was changed, can never grade under the client's hash. Torch-free.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from grader.catalogue import project_root

PARTS = ("exercises", "solutions")     # what grading reads from a catalogue root
CACHE_ENV = "TORCHDRILL_CACHE"
HASH_PREFIX = "sha256:"
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024  # a worker refuses to unpack more than this


class CatalogueMismatch(Exception):
    """This process cannot grade with the requested catalogue; the message says why, in one line."""


def _files(root: Path) -> list[tuple[str, Path]]:
    """(posix relative path, path) of every catalogue file, in a stable order. Caches and
    dot-files are left out: they differ between machines without changing what is graded."""
    found = []
    for part in PARTS:
        base = root / part
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
            for name in sorted(filenames):
                if name.startswith(".") or name.endswith((".pyc", ".pyo")):
                    continue
                path = Path(dirpath) / name
                if path.is_file():
                    found.append((path.relative_to(root).as_posix(), path))
    return sorted(found)


def grader_version() -> str:
    import grader                      # read at call time: the version this process runs
    return grader.__version__


def catalogue_hash(root: Path | None = None, version: str | None = None) -> str:
    """"sha256:<hex>" of the grader version and every catalogue file's path and content."""
    root = Path(root) if root is not None else project_root()
    digest = hashlib.sha256(b"torchdrill-catalogue-1\0")
    digest.update((version or grader_version()).encode() + b"\0")
    for rel, path in _files(root):
        data = path.read_bytes()
        digest.update(rel.encode() + b"\0" + str(len(data)).encode() + b"\0")
        digest.update(hashlib.sha256(data).digest())
    return HASH_PREFIX + digest.hexdigest()


def short(value: str) -> str:
    """The hash as people read it: the first 12 hex digits."""
    return value.removeprefix(HASH_PREFIX)[:12]


def pack(root: Path | None = None) -> bytes:
    """A gzipped tar of the catalogue files (regular files only, fixed modes and times)."""
    root = Path(root) if root is not None else project_root()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
        for rel, path in _files(root):
            data = path.read_bytes()
            info = tarfile.TarInfo(rel)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def cache_dir() -> Path:
    """$TORCHDRILL_CACHE, else the per-user cache folder (XDG_CACHE_HOME on Linux)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_cache_dir("torchdrill", appauthor=False))


def _unpack(data: bytes, dest: Path) -> None:
    if len(data) > MAX_ARCHIVE_BYTES:
        raise CatalogueMismatch(f"the catalogue archive is over {MAX_ARCHIVE_BYTES // 2 ** 20} MB")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                parts = member.name.split("/")
                # only plain files under exercises/ or solutions/: nothing may land elsewhere
                if not member.isfile() or parts[0] not in PARTS or ".." in parts \
                        or member.name.startswith("/"):
                    raise CatalogueMismatch(f"the catalogue archive holds {member.name!r}")
                target = dest.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                os.chmod(target, 0o644)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise CatalogueMismatch(f"the catalogue archive cannot be unpacked ({exc})") from None


def _make_readable(root: Path) -> None:
    """Grading children may run as another uid: they must be able to read the exercise folders."""
    for dirpath, _dirs, _files_ in os.walk(root):
        os.chmod(dirpath, 0o755)


def ensure(expected: str, data: bytes | None, *, client_version: str = "",
           installed: Path | None = None) -> Path:
    """The root of a catalogue whose hash is `expected`, on this machine: the installed one when
    it is exactly that, else the cache's copy (unpacked from `data` when missing or changed).
    Raises CatalogueMismatch when this process cannot produce it (another grader version)."""
    installed = installed or project_root()
    if catalogue_hash(installed) == expected:
        return installed
    base = cache_dir() / "catalogues"
    target = base / expected.removeprefix(HASH_PREFIX)
    if target.is_dir() and catalogue_hash(target) == expected:
        return target
    if data is None:
        raise CatalogueMismatch(f"this worker does not have catalogue {short(expected)} "
                                "and was not sent it")
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=base))
    try:
        _unpack(data, staging)
        got = catalogue_hash(staging)
        if got != expected:
            mine = grader_version()
            why = (f"torchdrill {mine} here, {client_version} on the client"
                   if client_version and client_version != mine
                   else "the unpacked files differ from the client's")
            raise CatalogueMismatch(f"its catalogue would be {short(got)}, not the client's "
                                    f"{short(expected)} ({why})")
        _make_readable(staging)
        if target.exists():            # a changed copy: set it aside, then take its place
            stale = Path(tempfile.mkdtemp(prefix=".stale-", dir=base))
            os.replace(target, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(staging, target)
        except OSError:                # another process of this machine unpacked it first
            if not (target.is_dir() and catalogue_hash(target) == expected):
                raise
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)
