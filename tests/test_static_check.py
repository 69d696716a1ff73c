"""The static pass (grader/engine/static_check.py): forbidden APIs however they are spelled, imports of
the grader or the answers (both zero the exercise), and the informational kinds, each with
file:line; no false alarms on ordinary code."""

import textwrap

import pytest

from grader.engine.static_check import MAX_FLAGS_PER_KIND, scan_folder, scan_source

FORBIDDEN = ("torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.Conv2d")


def kinds(source: str, forbidden=FORBIDDEN) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for flag in scan_source(textwrap.dedent(source), "conv.py", forbidden):
        out.setdefault(flag["kind"], []).append(flag["detail"])
    return out


@pytest.mark.parametrize("source, line", [
    ("import torch.nn.functional as F\ny = F.conv2d(x, w)", 2),
    ("from torch.nn import functional as F\ny = F.conv2d(x, w)", 2),
    ("from torch.nn.functional import conv2d as c\ny = c(x, w)", 1),
    ("import torch\ny = torch.conv2d(x, w)", 2),
    ("import torch\nG = torch.nn.functional\nH = G\ny = H.conv2d(x, w)", 4),
    ("import torch.nn.functional as F\ny = getattr(F, 'conv2d')(x, w)", 2),
    ("import torch.nn.functional as F\ny = getattr(F, 'conv' + '2d')(x, w)", 2),
    ("import torch.nn.functional as F\ny = getattr(F, ''.join(['conv', '2d']))(x, w)", 2),
    ("import importlib\nm = importlib.import_module('torch.nn.functional')\ny = m.conv2d(x, w)", 3),
    ("import importlib\ny = importlib.import_module('torch.nn' + '.functional').conv2d(x, w)", 2),
    ("import torch\nlayer = torch.nn.Conv2d(3, 4, 3)", 2),
])
def test_forbidden_api_however_spelled(source, line):
    found = kinds(source)
    assert "forbidden-mention" in found, found
    assert any(d.endswith(f"at conv.py:{line}") for d in found["forbidden-mention"]), found


def test_a_string_naming_the_api_counts_only_when_looked_up():
    stub = kinds("def conv2d(x, w):\n    raise NotImplementedError('conv2d')\n")
    assert stub == {}, stub                           # the stub's own message
    found = kinds("import torch\nf = torch.__dict__['conv' + '2d']")
    assert found["forbidden-mention"] == ["'conv2d' looked up dynamically at conv.py:2"]
    found = kinds("import operator, torch\nf = operator.attrgetter('conv2d')(torch)")
    assert "forbidden-mention" in found


@pytest.mark.parametrize("source", [
    "import grader",
    "import grader.harness as h",
    "from grader import harness",
    "from solutions.conv2d import conv2d",
    "import test_hidden",
    "import importlib\nh = importlib.import_module('grader.harness')",
    "h = __import__('solutions')",
    "import sys\nh = sys.modules['grader.harness']",
    "import sys\nh = sys.modules['test_hidden']",
])
def test_importing_the_grader_or_the_answers(source):
    assert "grader-mention" in kinds(source), kinds(source)


@pytest.mark.parametrize("source, kind", [
    ("data = open('/etc/passwd').read()", "file-access"),
    ("import pathlib\np = pathlib.Path('x').read_text()", "file-access"),
    ("import os\nos.listdir('/tmp')", "file-access"),
    ("import socket\ns = socket.socket()", "network"),
    ("import urllib.request\nurllib.request.urlopen('http://x')", "network"),
    ("import subprocess\nsubprocess.run(['ls'])", "subprocess"),
    ("import os\nos.system('ls')", "subprocess"),
    ("import os\nos.execv('/bin/sh', ['sh'])", "subprocess"),
    ("import os\nos.posix_spawnp('sh', ['sh'], {})", "subprocess"),
    ("import multiprocessing", "subprocess"),
    ("import threading\nthreading.Thread(target=f).start()", "threads"),
    ("exec('print(1)')", "dynamic-code"),
    ("x = eval('1 + 1')", "dynamic-code"),
    ("import base64\nexec(base64.b64decode(b'cHJpbnQoMSk='))", "dynamic-code"),
    ("import sys\nf = sys._getframe(1)", "introspection"),
    ("import gc\nobjs = gc.get_objects()", "introspection"),
    ("import inspect\nstack = inspect.stack()", "introspection"),
    ("import ctypes\nctypes.string_at(0)", "introspection"),
    ("import torch\ntorch.allclose = lambda *a, **k: True", "monkeypatch"),
    ("import torch\ntorch.Tensor.__eq__ = lambda s, o: True", "monkeypatch"),
    ("import numpy as np\nnp.testing.assert_allclose = print", "monkeypatch"),
    ("import builtins\nsetattr(builtins, 'type', lambda x: int)", "monkeypatch"),
    ("import torch\ndel torch.equal", "monkeypatch"),
    ("from torch.utils._python_dispatch import _pop_mode\n_pop_mode()", "guard-evasion"),
    ("import torch\nwith torch._C._DisableTorchDispatch():\n    pass", "guard-evasion"),
    ("import torch\nop.redispatch(ks, x)", "guard-evasion"),
    ("import torch\nlib = torch.library.Library('aten', 'IMPL')", "guard-evasion"),
    ("import sys\nsys.exit(0)", "process-exit"),
    ("import os\nos._exit(0)", "process-exit"),
])
def test_general_kinds(source, kind):
    found = kinds(source)
    assert kind in found, found
    assert all(":" in d and " at conv.py:" in d for d in found[kind])


def test_ordinary_code_raises_no_alarm():
    found = kinds('''
        """My solutions to the grader's questions: conv2d via unfold."""
        import math

        import torch
        import torch.nn.functional as F


        class Conv(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = torch.nn.Parameter(torch.zeros(1))
                self.grader = None            # attribute names are not imports

            def forward(self, x):
                solutions = [x]               # nor are local names
                cols = F.unfold(x, 3)
                return cols.sum() * math.sqrt(2) + self.weight


        def conv2d(x, w):
            return torch.einsum("nchw,kchw->nk", x, w)
    ''')
    assert found == {}, found


def test_unparsable_source_is_left_to_the_checks():
    assert scan_source("def broken(:\n", "conv.py", FORBIDDEN) == []


def test_flags_per_kind_are_capped():
    source = "import torch.nn.functional as F\n" + "".join(
        f"y{i} = F.conv2d(x, w)\n" for i in range(3 * MAX_FLAGS_PER_KIND))
    assert len(kinds(source)["forbidden-mention"]) == MAX_FLAGS_PER_KIND


def test_scan_folder_reads_only_the_graded_files(tmp_path):
    class Exercise:
        files = ("conv.py",)
        forbidden = FORBIDDEN
    (tmp_path / "conv.py").write_text("import torch\ny = torch.conv2d(x, w)\n")
    (tmp_path / "helper.py").write_text("import grader\n")      # never run, never scanned
    flags = scan_folder(Exercise, tmp_path)
    assert [f["kind"] for f in flags] == ["forbidden-mention"]
    assert flags[0]["detail"] == "torch.conv2d at conv.py:2"
