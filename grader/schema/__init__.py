"""The result JSON's schema (result-1.json, shipped with the package) and reading a result."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from grader.errors import InputError


@lru_cache(maxsize=1)
def result_schema() -> dict:
    return json.loads(resources.files("grader.schema").joinpath("result-1.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def _validator():
    import jsonschema        # imported on first use: `list` and `--help` stay instant
    cls = jsonschema.validators.validator_for(result_schema())
    return cls(result_schema())


def validate_result(data) -> str:
    """'' when `data` follows schema 1, else the first problem found, in one line."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return ""
    err = errors[0]
    where = "/".join(str(p) for p in err.absolute_path) or "the top level"
    return f"at {where}: {err.message[:200]}"


def load_result(path: Path) -> dict:
    """Read and validate a result JSON; any problem is a one-line InputError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    problem = validate_result(data)
    if problem:
        raise InputError(f"{path}: not a torchdrill result ({problem})")
    return data
