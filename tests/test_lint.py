"""`torchdrill validate` rejects what should not be in the catalogue (catalogue/lint.py): a
solutions/ folder with no exercise, a reference named unlike the stub, a wrong variant whose
docstring does not say which check catches it (or names a check that does not exist)."""

from __future__ import annotations

import shutil

import pytest

from grader.catalogue import load_catalogue
from grader.catalogue.lint import caught_by, catalogue_problems, exercise_problems, matches

from conftest import FIXTURE_ROOT, invoke


@pytest.fixture
def catalogue(tmp_path, monkeypatch):
    root = tmp_path / "root"
    shutil.copytree(FIXTURE_ROOT, root)
    monkeypatch.setenv("TORCHDRILL_ROOT", str(root))
    return root


def problems(root):
    cat = load_catalogue()
    return catalogue_problems(cat) + [p for ex in cat.values() for p in exercise_problems(ex)]


def test_the_fixture_catalogue_is_clean(catalogue):
    assert problems(catalogue) == []


def test_a_solutions_folder_with_no_exercise(catalogue):
    (catalogue / "solutions" / "tinny").mkdir()
    (found,) = problems(catalogue)
    assert "tinny" in found and "with no exercise" in found


def test_a_reference_named_unlike_the_stub(catalogue):
    shutil.move(catalogue / "solutions" / "tiny" / "tiny.py", catalogue / "solutions" / "tiny" / "tiny_ref.py")
    found = problems(catalogue)
    assert any("tiny_ref.py is not named like the stub (tiny.py)" in p for p in found)
    assert any("reference" in p and "tiny.py is missing" in p for p in found)


def test_a_wrong_variant_must_say_which_check_catches_it(catalogue):
    variant = catalogue / "solutions" / "tiny" / "wrong" / "silent.py"
    variant.write_text('"""Wrong: returns zero."""\ndef add(a, b):\n    return 0\n')
    assert any("silent.py does not say which check catches it" in p for p in problems(catalogue))
    variant.write_text('"""Wrong: returns zero.\n\nCaught by: test_no_such_check\n"""\n')
    assert any("names 'test_no_such_check', which is not a check" in p for p in problems(catalogue))


def test_caught_by_reads_names_wildcards_and_cases(tmp_path):
    v = tmp_path / "v.py"
    v.write_text('"""WRONG: x. Caught by: test_grad_bias, test_random_* and\ntest_groups[depthwise].\n\nMore."""\n')
    assert caught_by(v) == ["test_grad_bias", "test_random_*", "test_groups[depthwise]"]
    v.write_text('"""broken on purpose\nCaught by test_syntax\n"""\ndef (:\n')
    assert caught_by(v) == ["test_syntax"]
    assert matches("test_random_*", "test_hidden.py::test_random_shapes[3]")
    assert matches("test_groups", "test_hidden.py::test_groups[depthwise]")
    assert not matches("test_groups[depthwise]", "test_hidden.py::test_groups[groups-2]")


def test_validate_fails_when_a_named_check_passes(catalogue):
    variant = catalogue / "solutions" / "tiny" / "wrong" / "relu_no_dtype.py"
    text = variant.read_text().replace("Caught by: test_relu_dtype", "Caught by: test_add_small")
    variant.write_text(text)
    res = invoke("validate", "tiny", "--isolation", "process")
    assert res.exit_code == 1
    assert "its docstring says test_add_small catches it, which passed" in res.output


def test_a_wrong_variant_runs_only_its_named_checks_unless_all_checks(catalogue):
    """Named checks only (a fifth of the time); --all-checks runs them all, to re-annotate."""
    res = invoke("validate", "tiny", "--isolation", "process")
    assert res.exit_code == 0, res.output
    line = next(l for l in res.output.splitlines() if "wrong relu_no_dtype.py" in l)
    assert "1 of 1 named check(s) failed" in line
    res = invoke("validate", "tiny", "--isolation", "process", "--all-checks", "--seeds", "1")
    assert res.exit_code == 0, res.output
    line = next(l for l in res.output.splitlines() if "wrong relu_no_dtype.py" in l)
    assert "named check" not in line and "/4" in line


def test_every_contract_row_names_a_real_check_and_a_variant_that_names_it(catalogue):
    contract = catalogue / "solutions" / "tiny" / "contract.toml"
    good = contract.read_text()
    contract.write_text(good + '\n[[clause]]\ntext = "x"\ncheck = "test_nope"\n'
                        '\n[[clause]]\ntext = "y"\ncheck = "test_add_small"\nwrong = "relu_no_dtype"\n'
                        '\n[[clause]]\ntext = "z"\ncheck = "test_relu_dtype"\nwrong = "ghost"\n')
    found = problems(catalogue)
    assert any("names check 'test_nope'" in p for p in found)
    assert any("wrong/relu_no_dtype.py does not name test_add_small" in p for p in found)
    assert any("names wrong/ghost.py, which does not exist" in p for p in found)
    contract.unlink()
    assert any("contract.toml is missing" in p for p in problems(catalogue))


def test_validate_runs_the_public_tests_on_the_reference(catalogue):
    """The public case runs the exercise's own sample tests against the reference (in a warm
    grading child): passing ones pass, and a sample test the reference fails is reported."""
    res = invoke("validate", "tiny", "--isolation", "process")
    line = next(l for l in res.output.splitlines() if ": public " in l)
    assert line.startswith("✓ tiny: public tiny.py") and " passed" in line, line
    tests = catalogue / "exercises" / "tiny" / "test_tiny.py"
    tests.write_text(tests.read_text() + "\n\ndef test_the_sample_is_wrong():\n    assert 1 == 2\n")
    res = invoke("validate", "tiny", "--isolation", "process")
    assert res.exit_code == 1
    line = next(l for l in res.output.splitlines() if ": public " in l)
    assert line.startswith("✗ tiny: public tiny.py") and "1 failed" in line, line
