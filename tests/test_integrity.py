"""The integrity snapshot finds every change with and without dict version tags (the fast path)."""

import ctypes
import json
import sys

import pytest
import torch

from grader.sandbox import inventory, versions
from grader.sandbox import snapshot as snapshot_module


@pytest.fixture(params=["version tags", "every binding"])
def snap(request, monkeypatch):
    if request.param == "every binding":
        monkeypatch.setattr(versions, "available", lambda: False)
        monkeypatch.setattr(inventory, "_READ", {})          # nothing remembered either
    elif not versions.available():
        pytest.skip("this interpreter has no readable dict version tags")
    taken = snapshot_module.Snapshot.take()
    assert (taken.tags["hot"] is None) == (request.param == "every binding")
    assert taken.verify_and_restore() == []
    return taken


def test_version_tags_are_readable_on_cpython():
    if sys.implementation.name == "cpython" and (3, 11) <= sys.version_info[:2] <= (3, 13):
        assert versions.available()
    d: dict = {}
    views = [versions.watch(c) for c in (d, torch.Tensor.__dict__, ctypes.c_int.__dict__)]
    if views[0] is None:
        pytest.skip("no version tags here")
    before = [v.value for v in views]
    d["x"] = 1
    assert views[0].value != before[0] and [v.value for v in views[1:]] == before[1:]


def test_a_change_after_a_clean_check_is_found(snap):
    real = torch.allclose
    try:
        assert snap.verify_and_restore(full=False) == []
        torch.allclose = lambda *a, **k: True            # between two checks: no skipping it
        assert snap.verify_and_restore(full=False) == ["torch.allclose"]
        assert torch.allclose is real                    # put back
        assert snap.verify_and_restore(full=False) == []  # and the put-back is no change
    finally:
        torch.allclose = real


def test_additions_cold_bindings_and_sys_modules(snap):
    real_dumps, real_nn = json.dumps, sys.modules["torch.nn"]
    try:
        torch.Tensor.relu = lambda self: self             # an addition to a watched class
        json.dumps = lambda *a, **k: "{}"                 # a cold binding: full checks only
        ctypes.c_int.from_param = classmethod(lambda cls, x: x)   # no callable; a dict subclass
        torch.Tensor.shape = property(lambda self: (1,))  # shadows the C getter
        sys.modules["torch.nn"] = sys
        assert snap.verify_and_restore(full=False) == [
            "torch.Tensor.relu (added)", "torch.Tensor.shape (added)", "sys.modules['torch.nn']"]
        changed = snap.verify_and_restore(full=True)
        assert set(changed) == {"json.dumps", "ctypes.c_int.from_param (added)"}
        assert json.dumps is real_dumps and sys.modules["torch.nn"] is real_nn
        assert "relu" not in torch.Tensor.__dict__
        assert snap.verify_and_restore() == []
    finally:
        json.dumps, sys.modules["torch.nn"] = real_dumps, real_nn
        for name in ("relu", "shape"):
            if name in torch.Tensor.__dict__:
                delattr(torch.Tensor, name)
        if "from_param" in ctypes.c_int.__dict__:
            del ctypes.c_int.from_param


def test_a_change_undone_before_the_check_is_no_change(snap):
    real = torch.nn.functional.conv2d
    torch.nn.functional.conv2d = print
    torch.nn.functional.conv2d = real
    assert snap.verify_and_restore(full=False) == []


def test_remembered_readings_are_reread_when_their_dict_changes():
    if not versions.available():
        pytest.skip("nothing is remembered without version tags")
    inventory.remember_all()                    # as the fork server does after its preload
    before = {id(r.container): r for r in inventory.read_all()}
    again = {id(r.container): r for r in inventory.read_all()}
    assert all(again[k] is before[k] for k in before)        # nothing changed: nothing re-read
    real = json.JSONEncoder.default
    try:
        json.loads = json.loads                 # same value: the dict is not even written
        json.new_helper = lambda: None          # a write after the fork server read json
        json.JSONEncoder.default = lambda self, o: "x"
        taken = snapshot_module.Snapshot.take()
        readings = {id(r.container): r for r in inventory.read_all()}
        assert readings[id(json.__dict__)] is not before[id(json.__dict__)]
        assert "new_helper" in readings[id(json.__dict__)].keys
        json.new_helper = print                 # the re-read binding is watched from now on
        json.JSONEncoder.default = real
        assert set(taken.verify_and_restore()) == {"json.new_helper",
                                                   "json.encoder.JSONEncoder.default"}
    finally:
        json.JSONEncoder.default = real
        del json.new_helper
