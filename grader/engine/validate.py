"""`torchdrill validate`: prove the catalogue is sound (the rustlings `dev check`).

For every exercise: exercise.toml is valid (loading the catalogue proved it); the reference
solution earns full correctness marks; the untouched stub earns zero; every `wrong/*.py` loses
points, failing the checks its docstring names ("Caught by: ..."); every `alt/*.py` earns full
marks under ALT_SEEDS different secret seeds; every `partial/*.py` (a correct implementation
lacking one feature) fails only checks its docstring allows ("Allowed to fail: ..."), and at
least one; the public tests pass on the reference; and the layout rules of catalogue/lint.py hold.
Timing is off here: speed points depend on the machine, correctness must not.
"""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from grader.catalogue import Exercise
from grader.catalogue.lint import allowed_to_fail, caught_by, exercise_problems, matches
from grader.engine.grading import GradeOptions, grade_exercise, missing_requirements
from grader.isolation.runner import run_child
from grader.kinds import Event
from grader.kinds import Outcome as CheckOutcome
from grader.kinds import Status


ALT_SEEDS = 2          # a correct solution written another way must pass whatever the seed


@dataclass(frozen=True)
class Case:
    exercise: Exercise
    kind: str          # reference | stub | wrong | alt | partial | public
    source: Path       # the module file to grade (or the reference for public)
    run: int = 1       # alternatives run several times: each run draws its own secret seed

    @property
    def label(self) -> str:
        again = f" (seed {self.run})" if self.run > 1 else ""
        return f"{self.exercise.slug}: {self.kind} {self.source.name}{again}"


@dataclass
class Outcome:
    case: Case
    ok: bool
    detail: str


def cases_for(ex: Exercise, seeds: int = ALT_SEEDS, quick: bool = False) -> list[Case]:
    """Every case of one exercise; quick (the test suite's pass): one seed, and only the first
    alt/ and partial/ variant, since each of those runs every hidden check."""
    module = ex.files[0]
    alternatives, partials = ex.alternatives(), ex.partials()
    if quick:
        seeds, alternatives, partials = 1, alternatives[:1], partials[:1]
    cases = [Case(ex, "reference", ex.solution_dir / module), Case(ex, "stub", ex.path / module),
             Case(ex, "public", ex.solution_dir / module)]
    cases += [Case(ex, "wrong", p) for p in ex.wrong_variants()]
    cases += [Case(ex, "alt", p, run) for p in alternatives for run in range(1, seeds + 1)]
    cases += [Case(ex, "partial", p) for p in partials]
    return cases


def run_case(case: Case, options: GradeOptions, all_checks: bool = False) -> Outcome:
    ex = case.exercise
    named = caught_by(case.source) if case.kind == "wrong" else []
    if named and not all_checks:
        # A wrong variant is caught when the checks its docstring names fail: run only those
        # (a fifth of the time). --all-checks runs every check, to re-annotate "Caught by".
        options = replace(options, only=tuple(named))
    with tempfile.TemporaryDirectory(prefix="torchdrill-validate-") as tmp:
        folder = Path(tmp) / ex.slug
        folder.mkdir()
        if case.kind == "public":
            return _run_public(case, folder)
        for name in ex.files:   # multi-file exercises: other files from the reference
            shutil.copyfile(ex.solution_dir / name, folder / name)
        shutil.copyfile(case.source, folder / ex.files[0])
        result = grade_exercise(ex, Path(tmp), options)
    score = result["score"]
    # timing is off here, so speed points are out of reach for every variant
    speed = ex.timing.speed_points if ex.timing else 0
    max_score = round(result["max_score"] - speed, 4)
    failed = [c for c in result["checks"] if c["outcome"] != CheckOutcome.PASSED]
    summary = f"{score:g}/{max_score:g}" + (f" (+{speed:g} speed points, not timed)" if speed else "")
    if case.kind in ("reference", "alt"):
        ok = score == max_score and not failed and result["status"] == Status.GRADED
        detail = summary if ok else summary + "; " + "; ".join(
            f"{c['name']}: {c['outcome']}: {c['message'][:300]}" for c in failed[:3])
    elif case.kind == "partial":
        allowed = allowed_to_fail(case.source)
        unfair = [c for c in failed if not any(matches(n, c["id"]) for n in allowed)]
        ok = bool(failed) and not unfair and result["status"] == Status.GRADED
        detail = f"{summary}, failed: {', '.join(c['id'].split('::')[-1] for c in failed[:6]) or 'nothing'}"
        if unfair:
            detail += "; not allowed to fail: " + "; ".join(
                f"{c['id'].split('::')[-1]}: {c['message'][:200]}" for c in unfair[:3])
    elif case.kind == "stub":
        ok = score == 0
        detail = summary if ok else summary + "; stub passes: " + ", ".join(
            c["name"] for c in result["checks"] if c["outcome"] == CheckOutcome.PASSED)
    else:
        caught = [c["name"] for c in failed]
        ran = {c["id"] for c in result["checks"]}
        missed = [n for n in named if not any(matches(n, c["id"]) for c in failed)]
        unrun = [n for n in missed if not any(matches(n, i) for i in ran)]
        ok = score < max_score and not missed and bool(failed)
        if options.only:
            summary = f"{len(failed)} of {len(ran)} named check(s) failed"
        detail = f"{summary}, caught by: {', '.join(caught[:4]) or 'nothing'}"
        if unrun:
            detail += f"; its docstring names {', '.join(unrun)}, which did not run"
        elif missed:
            detail += f"; its docstring says {', '.join(missed)} catches it, which passed"
    return Outcome(case, ok, detail)


def _run_public(case: Case, folder: Path) -> Outcome:
    """The exercise folder as a candidate gets it, with the reference in place of the stub:
    its public tests must pass. They run in a grading child (forked from the warm fork server
    where there is one) in mode "public": our own code only, so without the sandbox."""
    ex = case.exercise
    work = folder / "work"
    for sub in ("work", "checks", "home"):
        (folder / sub).mkdir()
    for src in ex.path.iterdir():
        if src.is_file() and src.suffix != ".pyc":
            shutil.copyfile(src, work / src.name)
    for name in ex.files:
        shutil.copyfile(ex.solution_dir / name, work / name)
    run = run_child(ex, folder, mode="public", device="cpu", threads=1,
                    time_limit_s=ex.time_limit_s * 2,
                    public_tests=tuple(p.name for p in ex.public_tests))
    sessions = run.of(Event.SESSION)
    code = sessions[-1].get("exit_code") if sessions else None
    lines = [line for line in run.output.strip().splitlines() if line.strip()]
    summary = lines[-1] if lines else "no output"
    if run.timed_out:
        summary = f"timed out after {ex.time_limit_s * 2:g} s: {summary}"
    return Outcome(case, code == 0, summary[-300:])


def validate(exercises: list[Exercise], jobs: int, progress=None, isolation: str = "process",
             all_checks: bool = False, seeds: int = ALT_SEEDS,
             quick: bool = False) -> tuple[list[str], list[Outcome]]:
    """Returns (structural problems, outcomes). Valid when no problem and every outcome ok."""
    problems = [p for ex in exercises for p in exercise_problems(ex)]
    runnable = [ex for ex in exercises if not missing_requirements(ex)
                and ex.hidden_tests.is_file()]
    cases = [c for ex in runnable for c in cases_for(ex, seeds, quick)]
    # the costliest first, so that -j N workers finish together (a full run of the hidden checks
    # costs ten to twenty times a wrong variant's named checks)
    cases.sort(key=lambda c: c.kind == "wrong")
    options = GradeOptions(device="cpu", timing=False, jobs=jobs, isolation=isolation)

    def one(case: Case) -> Outcome:
        try:
            outcome = run_case(case, options, all_checks)
        except Exception as exc:  # noqa: BLE001
            outcome = Outcome(case, False, f"validate crashed: {type(exc).__name__}: {exc}")
        if progress:
            progress(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        outcomes = list(pool.map(one, cases))
    return problems, outcomes
