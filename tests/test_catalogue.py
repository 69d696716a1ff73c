"""exercise.toml is validated strictly; every error names the file, the key and the fix."""

import shutil

import pytest

from grader.catalogue import load_catalogue, load_exercise, select
from grader.errors import InputError

from conftest import FIXTURE_ROOT


@pytest.fixture
def tiny(tmp_path):
    dest = tmp_path / "tiny"
    shutil.copytree(FIXTURE_ROOT / "exercises" / "tiny", dest)
    return dest


def rewrite(folder, old, new):
    toml = folder / "exercise.toml"
    text = toml.read_text()
    assert old in text
    toml.write_text(text.replace(old, new))


def test_loads_fixture(tiny):
    ex = load_exercise(tiny)
    assert (ex.slug, ex.points, ex.files, ex.forbidden_ops) == ("tiny", 4.0, ("tiny.py",), ("aten.relu",))
    assert ex.hints[0].text.startswith("relu")


@pytest.mark.parametrize("old,new,expected", [
    ("points = 4", "points = 4\npionts = 3", "unknown key 'pionts'"),
    ("points = 4", 'points = "four"', "key 'points' has the wrong type"),
    ('title = "Tiny fixture exercise"\n', "", "missing key 'title'"),
    ('files = ["tiny.py"]', 'files = ["nope.py"]', "nope.py"),
    ('difficulty = "easy"', 'difficulty = "trivial"', "difficulty must be one of"),
    ('slug = "tiny"', 'slug = "other"', "must equal the folder name"),
    ("format_version = 1", "format_version = 2", "format_version must be 1"),
    ("[[hints]]", "[[hints]]\ncolour = 1", "hints[0]"),
    ("time_limit_s = 10", "time_limit_s = [", "not valid TOML"),
])
def test_errors_name_file_key_and_fix(tiny, old, new, expected):
    rewrite(tiny, old, new)
    with pytest.raises(InputError) as err:
        load_exercise(tiny)
    assert expected in str(err.value)
    assert str(tiny / "exercise.toml") in str(err.value) or "nope.py" in str(err.value)


def test_unknown_key_message_lists_known_keys(tiny):
    rewrite(tiny, "points = 4", "points = 4\ntimeout = 3")
    with pytest.raises(InputError, match="known keys: .*time_limit_s"):
        load_exercise(tiny)


def test_timing_table_validated(tiny):
    rewrite(tiny, "[[hints]]", '[timing]\nentry = "relu"\nreference = "torch.relu"\n'
            'cases = [{ name = "small", input = [4, 4] }]\nrepeat = 3\n[[hints]]')
    with pytest.raises(InputError, match="unknown key 'timing.repeat'"):
        load_exercise(tiny)


def test_select_unknown_slug(fixture_root):
    with pytest.raises(InputError, match="unknown exercise 'nope'"):
        select(load_catalogue(), ["nope"])


def test_real_catalogue_is_valid(real_root):
    catalogue = load_catalogue()
    assert "conv-output-shape" in catalogue and "conv2d" in catalogue
