"""Mutation testing of the hidden checks: grade every mutant of the reference; each should fail.

A mutant (catalogue/mutants.py) is the reference with one small change. Graded exactly like a
`validate` variant (timing off, correctness points only), it is killed when it scores under the
correctness maximum and survives otherwise. A survivor is either equivalent (behaves like the
reference on every valid input: the author says so, with a reason, in
`solutions/<slug>/equivalent_mutants.toml`) or a gap in the hidden checks. docs/mutation.md.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from grader.catalogue import Exercise
from grader.catalogue.mutants import Mutant, generate
from grader.engine.grading import GradeOptions, grade_exercise
from grader.errors import InputError
from grader.kinds import Outcome

TARGET = 0.95            # the share of non-equivalent mutants the hidden checks must kill
EQUIVALENT_FILE = "equivalent_mutants.toml"


@dataclass
class MutantResult:
    id: str
    description: str
    killed: bool
    killed_by: list[str]       # ids of the checks that failed (empty for a survivor)
    score: float
    max_score: float           # correctness maximum (speed points excluded, as validate does)
    status: str
    seconds: float
    error: str = ""            # the grader itself failed on this mutant (counted as not killed)


@dataclass
class MutationReport:
    slug: str
    generated: int                                       # every mutant the generator made
    ran: int = 0                                         # graded (fewer under --limit)
    killed: list[MutantResult] = field(default_factory=list)
    survived: list[MutantResult] = field(default_factory=list)
    equivalent: list[dict] = field(default_factory=list)  # {id, description, reason}
    stale: list[dict] = field(default_factory=list)       # {id, reason}: not generated any more
    limit: int | None = None
    seconds: float = 0.0

    @property
    def score(self) -> float:
        """killed / (generated - equivalent); under --limit, killed / graded."""
        return len(self.killed) / self.ran if self.ran else 1.0

    @property
    def passed(self) -> bool:
        return self.score >= TARGET

    def summary(self) -> str:
        ran = f" ({self.ran} graded, --limit {self.limit})" if self.ran < \
            self.generated - len(self.equivalent) else ""
        return (f"{self.slug}: {self.generated} generated{ran}, {len(self.killed)} killed, "
                f"{len(self.survived)} survived, {len(self.equivalent)} equivalent: "
                f"{self.score:.1%}")

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(score=round(self.score, 4), target=TARGET, passed=self.passed)
        return out


def equivalent_marks(exercise: Exercise) -> dict[str, str]:
    """id -> reason from solutions/<slug>/equivalent_mutants.toml (empty when there is none)."""
    path = exercise.solution_dir / EQUIVALENT_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    marks = {}
    for i, entry in enumerate(data.get("mutant", [])):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) \
                or not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            # a mark without a reason is how real gaps get waved through: refuse it
            raise InputError(f"{path}: mutant[{i}] needs id = \"...\" and a non-empty "
                             "reason = \"...\"")
        marks[entry["id"]] = entry["reason"].strip()
    return marks


def exercise_mutants(exercise: Exercise) -> list[Mutant]:
    """The mutants of the exercise's main module (the first of `files`, as validate grades)."""
    return generate((exercise.solution_dir / exercise.files[0]).read_text(encoding="utf-8"))


def spread(items: list, limit: int | None) -> list:
    """`limit` items taken evenly across the list: a sample over the whole module, not just
    its first function, and the same sample every run."""
    if limit is None or limit >= len(items):
        return list(items)
    if limit <= 0:
        return []
    return [items[(i * len(items)) // limit] for i in range(limit)]


def grade_mutant(exercise: Exercise, mutant: Mutant, options: GradeOptions) -> MutantResult:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="torchdrill-mutant-") as tmp:
        folder = Path(tmp) / exercise.slug
        folder.mkdir()
        for name in exercise.files:   # multi-file exercises: the other files from the reference
            shutil.copyfile(exercise.solution_dir / name, folder / name)
        (folder / exercise.files[0]).write_text(mutant.source, encoding="utf-8")
        result = grade_exercise(exercise, Path(tmp), options)
    speed = exercise.timing.speed_points if exercise.timing else 0
    max_score = round(result["max_score"] - speed, 4)
    failed = [c["id"] for c in result["checks"] if c["outcome"] != Outcome.PASSED]
    # 1e-9: scores are sums of rounded floats; only a real loss of points kills
    killed = result["score"] < max_score - 1e-9
    return MutantResult(mutant.id, mutant.description, killed, failed if killed else [],
                        result["score"], max_score, result["status"],
                        round(time.monotonic() - started, 2))


def run_mutants(exercise: Exercise, jobs: int, limit: int | None = None, progress=None,
                isolation: str = "process") -> MutationReport:
    """Grade the exercise's mutants (all, or `limit` spread over them), `jobs` at a time.
    `progress(done, total, result)` after each one."""
    started = time.monotonic()
    mutants = exercise_mutants(exercise)
    marks = equivalent_marks(exercise)
    by_id = {m.id: m for m in mutants}
    report = MutationReport(exercise.slug, generated=len(mutants), limit=limit)
    report.equivalent = [{"id": i, "description": by_id[i].description, "reason": r}
                         for i, r in marks.items() if i in by_id]
    report.stale = [{"id": i, "reason": r} for i, r in marks.items() if i not in by_id]
    todo = spread([m for m in mutants if m.id not in marks], limit)
    options = GradeOptions(device="cpu", timing=False, jobs=jobs, isolation=isolation)
    done, lock = 0, threading.Lock()

    def one(mutant: Mutant) -> MutantResult:
        nonlocal done
        try:
            res = grade_mutant(exercise, mutant, options)
        except Exception as exc:  # noqa: BLE001 - a grader failure costs this mutant only
            res = MutantResult(mutant.id, mutant.description, False, [], 0.0, 0.0, "error", 0.0,
                               error=f"{type(exc).__name__}: {exc}")
        with lock:   # one progress line per mutant, counted once
            done += 1
            if progress:
                progress(done, len(todo), res)
        return res

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, todo))   # map keeps the generator's order in the report
    report.ran = len(results)
    report.killed = [r for r in results if r.killed]
    report.survived = [r for r in results if not r.killed]
    report.seconds = round(time.monotonic() - started, 1)
    return report


def reports_json(reports: list[MutationReport]) -> dict:
    """What `validate --mutants --json FILE` writes."""
    return {"tool": "torchdrill", "kind": "mutation", "target": TARGET,
            "passed": all(r.passed for r in reports),
            "reports": [r.to_dict() for r in reports]}
