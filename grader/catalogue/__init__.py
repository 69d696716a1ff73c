"""The exercise catalogue: `exercises/<slug>/exercise.toml` read into frozen dataclasses.

Validation is strict because authors make typos and a typo must not silently drop a
forbidden API or a time limit. Every error names the file, the key and the fix.
This module must not import torch: `list`, `show` and `hint` use it and must feel instant.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from grader.errors import InputError

FORMAT_VERSION = 1
DIFFICULTIES = ("easy", "medium", "hard")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def project_root() -> Path:
    """Folder holding `exercises/` and `solutions/` (override with TORCHDRILL_ROOT)."""
    env = os.environ.get("TORCHDRILL_ROOT")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[2]


def exercises_dir() -> Path:
    return project_root() / "exercises"


def solutions_dir() -> Path:
    return project_root() / "solutions"


@dataclass(frozen=True)
class Hint:
    text: str


@dataclass(frozen=True)
class FollowUp:
    """An interview follow-up: asked when the named check (or any check, for a tag) failed or passed."""
    ask: str
    when: str          # "failed": probe the misconception | "passed": go deeper
    check: str = ""    # a hidden check's function name, e.g. "test_same_padding_even_kernel"
    tag: str = ""      # or one of the exercise's tags


@dataclass(frozen=True)
class TimingCase:
    name: str
    params: dict  # shapes ("input", "weight", ...) and keyword arguments, as written


@dataclass(frozen=True)
class Timing:
    entry: str
    reference: str
    cases: tuple[TimingCase, ...]
    flops: str = ""  # Python expression over the case's values, e.g. "2*N*K*C*R*S*P*Q"
    setup: str = ""  # optional "module:function" building (candidate_args, reference_args)
    tiers: tuple[tuple[float, float], ...] = ()  # (max slowdown vs PyTorch, share of speed points)
    speed_points: float = 0.0


@dataclass(frozen=True)
class Exercise:
    slug: str
    title: str
    difficulty: str
    tags: tuple[str, ...]
    points: float
    time_limit_s: float
    files: tuple[str, ...]
    forbidden: tuple[str, ...]
    forbidden_ops: tuple[str, ...]
    hints: tuple[Hint, ...]
    timing: Timing | None
    requires: tuple[str, ...]
    memory_limit_mb: int
    path: Path = field(compare=False)
    follow_ups: tuple[FollowUp, ...] = ()

    @property
    def prompt_path(self) -> Path:
        return self.path / "README.md"

    @property
    def solution_dir(self) -> Path:
        return solutions_dir() / self.slug

    @property
    def hidden_tests(self) -> Path:
        return self.solution_dir / "test_hidden.py"

    @property
    def public_tests(self) -> list[Path]:
        return sorted(self.path.glob("test_*.py"))

    def wrong_variants(self) -> list[Path]:
        wrong = self.solution_dir / "wrong"
        return sorted(p for p in wrong.glob("*.py")) if wrong.is_dir() else []

    def partials(self) -> list[Path]:
        """Correct implementations lacking one feature (solutions/<slug>/partial/)."""
        partial = self.solution_dir / "partial"
        return sorted(partial.glob("*.py")) if partial.is_dir() else []

    def alternatives(self) -> list[Path]:
        alt = self.solution_dir / "alt"
        return sorted(p for p in alt.glob("*.py")) if alt.is_dir() else []


# key -> (expected type(s), required, human description of the fix)
_TOP_KEYS = {
    "format_version": (int, True, "format_version = 1"),
    "slug": (str, True, 'slug = "<folder name>"'),
    "title": (str, True, 'title = "One line shown in `torchdrill list`"'),
    "difficulty": (str, True, 'difficulty = "easy" | "medium" | "hard"'),
    "tags": (list, False, 'tags = ["convolution"]'),
    "points": ((int, float), True, "points = 10"),
    "time_limit_s": ((int, float), True, "time_limit_s = 120"),
    "files": (list, True, 'files = ["module.py"]'),
    "forbidden": (list, False, 'forbidden = ["torch.nn.functional.conv2d"]'),
    "forbidden_ops": (list, False, 'forbidden_ops = ["aten.convolution"]'),
    "hints": (list, False, '[[hints]] text = "..."'),
    "follow_ups": (list, False, '[[follow_ups]] check = "test_x", when = "failed", ask = "..."'),
    "timing": (dict, False, "[timing] entry = ..., reference = ..., cases = [...]"),
    "requires": (list, False, 'requires = ["triton"]  # optional packages'),
    "memory_limit_mb": (int, False, "memory_limit_mb = 4096"),
}
_TIMING_KEYS = {
    "entry": (str, True, 'entry = "conv2d"'),
    "reference": (str, True, 'reference = "torch.nn.functional.conv2d"'),
    "cases": (list, True, 'cases = [{ name = "small", input = [1, 3, 8, 8] }]'),
    "flops": (str, False, 'flops = "2 * N * K * C * R * S * P * Q"'),
    "setup": (str, False, 'setup = "grader.timing:conv2d_case"'),
    "tiers": (list, False, "tiers = [[1.5, 1.0], [3.0, 0.5], [10.0, 0.25]]"),
    "speed_points": ((int, float), False, "speed_points = 4"),
}


def timing_skip_reason(requires, device: str) -> str | None:
    """Why timing is not meaningful for an exercise on this device (None: time it).

    Triton kernels run on CPU only through Triton's interpreter (TRITON_INTERPRET=1), which is
    a correctness tool thousands of times slower than a compiled kernel: they are timed on CUDA
    only. Lives here, torch-free, because the parent decides before starting a timing child."""
    if "triton" in tuple(requires) and device != "cuda":
        return "Triton kernels are timed on CUDA only (on CPU they run in Triton's interpreter)"
    return None


def _check_keys(table: dict, spec: dict, where: str, toml_path: Path) -> None:
    for key in table:
        if key not in spec:
            known = ", ".join(sorted(spec))
            raise InputError(f"{toml_path}: unknown key '{where}{key}'; known keys: {known}")
    for key, (types, required, fix) in spec.items():
        if key not in table:
            if required:
                raise InputError(f"{toml_path}: missing key '{where}{key}'; add: {fix}")
            continue
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise InputError(
                f"{toml_path}: key '{where}{key}' has the wrong type "
                f"({type(value).__name__}); expected: {fix}"
            )


def _str_list(value: list, key: str, toml_path: Path) -> tuple[str, ...]:
    if not all(isinstance(v, str) for v in value):
        raise InputError(f"{toml_path}: every item of '{key}' must be a string")
    return tuple(value)


def _parse_timing(table: dict, toml_path: Path) -> Timing:
    _check_keys(table, _TIMING_KEYS, "timing.", toml_path)
    cases = []
    for i, case in enumerate(table["cases"]):
        if not isinstance(case, dict) or not isinstance(case.get("name"), str):
            raise InputError(f"{toml_path}: timing.cases[{i}] needs a table with a string 'name'")
        params = {k: v for k, v in case.items() if k != "name"}
        cases.append(TimingCase(name=case["name"], params=params))
    tiers = []
    for tier in table.get("tiers", []):
        if (not isinstance(tier, list) or len(tier) != 2
                or not all(isinstance(x, (int, float)) for x in tier)):
            raise InputError(f"{toml_path}: each timing.tiers item must be [max_slowdown, share]")
        tiers.append((float(tier[0]), float(tier[1])))
    return Timing(
        entry=table["entry"], reference=table["reference"], cases=tuple(cases),
        flops=table.get("flops", ""), setup=table.get("setup", ""),
        tiers=tuple(tiers), speed_points=float(table.get("speed_points", 0.0)),
    )


FOLLOW_UP_WHEN = ("failed", "passed")


def _parse_follow_ups(items: list, toml_path: Path) -> tuple[FollowUp, ...]:
    found = []
    for i, item in enumerate(items):
        where = f"{toml_path}: follow_ups[{i}]"
        if not isinstance(item, dict) or not set(item) <= {"check", "tag", "when", "ask"}:
            raise InputError(f"{where} must be a table with check or tag, when and ask only")
        if ("check" in item) == ("tag" in item):
            raise InputError(f"{where} needs exactly one of check = \"test_name\" or tag = \"tag\"")
        if item.get("when") not in FOLLOW_UP_WHEN:
            raise InputError(f"{where}: when must be \"failed\" or \"passed\"")
        if not isinstance(item.get("ask"), str) or not item["ask"].strip():
            raise InputError(f"{where}: ask = \"the question\" is missing")
        key = "check" if "check" in item else "tag"
        if not isinstance(item[key], str) or not item[key]:
            raise InputError(f"{where}: {key} must be a non-empty string")
        found.append(FollowUp(ask=item["ask"].strip(), when=item["when"],
                              check=item.get("check", ""), tag=item.get("tag", "")))
    return tuple(found)


def load_exercise(folder: Path) -> Exercise:
    toml_path = folder / "exercise.toml"
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{toml_path}: missing; every exercise folder needs an exercise.toml")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{toml_path}: not valid TOML ({exc}); fix the syntax") from None
    _check_keys(data, _TOP_KEYS, "", toml_path)
    if data["format_version"] != FORMAT_VERSION:
        raise InputError(f"{toml_path}: format_version must be {FORMAT_VERSION}")
    slug = data["slug"]
    if slug != folder.name or not SLUG_RE.match(slug):
        raise InputError(f"{toml_path}: slug '{slug}' must equal the folder name '{folder.name}'"
                         " and use lowercase letters, digits and dashes")
    if data["difficulty"] not in DIFFICULTIES:
        raise InputError(f"{toml_path}: difficulty must be one of {', '.join(DIFFICULTIES)}")
    if data["points"] <= 0 or data["time_limit_s"] <= 0:
        raise InputError(f"{toml_path}: points and time_limit_s must be positive")
    files = _str_list(data["files"], "files", toml_path)
    if not files:
        raise InputError(f"{toml_path}: 'files' must name at least one file the candidate edits")
    for name in files:
        if "/" in name or "\\" in name or not name.endswith(".py"):
            raise InputError(f"{toml_path}: files entry '{name}' must be a plain .py file name")
        if not (folder / name).is_file():
            raise InputError(f"{toml_path}: files names '{name}' but {folder / name} is missing;"
                             " add the stub or fix the name")
    if not (folder / "README.md").is_file():
        raise InputError(f"{folder / 'README.md'}: missing; write the prompt there")
    hints = []
    for i, hint in enumerate(data.get("hints", [])):
        if not isinstance(hint, dict) or set(hint) != {"text"} or not isinstance(hint["text"], str):
            raise InputError(f"{toml_path}: hints[{i}] must be a table with only text = \"...\"")
        hints.append(Hint(hint["text"]))
    timing = _parse_timing(data["timing"], toml_path) if "timing" in data else None
    return Exercise(
        slug=slug, title=data["title"], difficulty=data["difficulty"],
        tags=_str_list(data.get("tags", []), "tags", toml_path),
        points=float(data["points"]), time_limit_s=float(data["time_limit_s"]),
        files=files,
        forbidden=_str_list(data.get("forbidden", []), "forbidden", toml_path),
        forbidden_ops=_str_list(data.get("forbidden_ops", []), "forbidden_ops", toml_path),
        hints=tuple(hints), timing=timing,
        requires=_str_list(data.get("requires", []), "requires", toml_path),
        memory_limit_mb=int(data.get("memory_limit_mb", 6144)),
        path=folder,
        follow_ups=_parse_follow_ups(data.get("follow_ups", []), toml_path),
    )


def load_catalogue(root: Path | None = None) -> dict[str, Exercise]:
    """All exercises, keyed by slug, in a stable order (difficulty, then slug)."""
    root = root or exercises_dir()
    if not root.is_dir():
        raise InputError(f"{root}: no exercises folder; set TORCHDRILL_ROOT to a torchdrill checkout")
    found = [load_exercise(p) for p in sorted(root.iterdir())
             if p.is_dir() and not p.name.startswith((".", "_"))]
    found.sort(key=lambda e: (DIFFICULTIES.index(e.difficulty), e.slug))
    return {e.slug: e for e in found}


def select(catalogue: dict[str, Exercise], slugs) -> list[Exercise]:
    """The named exercises (all when none named); an unknown slug is a usage error."""
    if not slugs:
        return list(catalogue.values())
    unknown = [s for s in slugs if s not in catalogue]
    if unknown:
        raise InputError(f"unknown exercise '{unknown[0]}'; `torchdrill list` shows the slugs")
    return [catalogue[s] for s in dict.fromkeys(slugs)]
