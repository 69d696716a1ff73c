"""The reports in a real browser: headless Chromium (Debian's `chromium`) loads the single
report (both audiences) and the leaderboard of a real grade-many run, takes a screenshot at
a laptop's 1366x768, dumps the DOM after scripts ran, and must log no console message at all
(errors, CSP violations, uncaught exceptions all arrive as CONSOLE lines). Skipped, with the
reason shown, when Chromium is not installed; `.ci/run` installs it."""

import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from grader.report import render_html

from conftest import SUBS, invoke
from report_samples import HIDDEN_IDS, sample_result

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed: apt-get install chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]


def load(url: str, out: Path, size=(1366, 768), screenshot: bool = True, extra=()):
    """Open `url`; return (DOM after scripts ran, console lines, screenshot path)."""
    png = out.with_suffix(".png")
    with tempfile.TemporaryDirectory(prefix="torchdrill-chromium-") as profile:
        args = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                f"--window-size={size[0]},{size[1]}", *extra]
        if screenshot:
            args.append(f"--screenshot={png}")
        proc = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True,
                              timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines()
               if ":CONSOLE" in line or "Uncaught" in line or "Refused to" in line]
    return proc.stdout, console, png


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, "blank or missing screenshot"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory):
    """A real grade-many run over three fixture candidates (one a hostile zip)."""
    import os
    import zipfile
    old = os.environ.get("TORCHDRILL_ROOT")
    os.environ["TORCHDRILL_ROOT"] = str(Path(__file__).parent / "tiny_catalogue")
    try:
        base = tmp_path_factory.mktemp("browser")
        subs = base / "subs"
        subs.mkdir()
        shutil.copytree(SUBS / "full", subs / "alice")
        shutil.copytree(SUBS / "forbidden", subs / "carol")
        with zipfile.ZipFile(subs / "bob.zip", "w") as zf:
            zf.write(SUBS / "partial" / "tiny" / "tiny.py", "exercises/tiny/tiny.py")
        res = invoke("grade-many", subs, "--out", base / "out", "-j", "3", "--no-timing")
        assert res.exit_code == 0, res.output
        return base / "out"
    finally:
        if old is None:
            os.environ.pop("TORCHDRILL_ROOT", None)
        else:
            os.environ["TORCHDRILL_ROOT"] = old


def test_interviewer_report_renders(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(sample_result(), "interviewer"), encoding="utf-8")
    dom, console, png = load(page.as_uri(), tmp_path / "interviewer")
    assert console == []
    assert png_size(png) == (1366, 768)
    assert 'id="total-score">48%' in dom
    for element in ('id="summary"', 'id="score-chart"', 'id="strongest"', 'id="weakest"',
                    'id="flags-summary"', 'id="ex-conv2d"', 'id="environment"',
                    'id="src-conv2d-conv2d_py-11" class="marked"'):
        assert element in dom, element
    assert dom.count('<section class="exercise card"') == 4          # + amp-train-step: not attempted, one line
    assert 'id="not-attempted"' in dom
    assert "<script" not in dom


def test_candidate_report_renders_without_hidden_names(tmp_path):
    page = tmp_path / "candidate.html"
    page.write_text(render_html(sample_result(), "candidate"), encoding="utf-8")
    dom, console, png = load(page.as_uri(), tmp_path / "candidate")
    assert console == []
    png_size(png)
    assert 'id="summary"' in dom and "padding same with even kernels" in dom
    assert not [n for n in HIDDEN_IDS if n in dom]


def test_progress_page_renders(tmp_path):
    assert invoke("progress", "--html", tmp_path / "progress.html").exit_code == 0
    dom, console, png = load((tmp_path / "progress.html").as_uri(), tmp_path / "progress")
    assert console == [] and "torchdrill progress" in dom
    png_size(png)


def test_report_prints_to_pdf(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(sample_result(), "interviewer"), encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    _, console, _ = load(page.as_uri(), tmp_path / "print", screenshot=False,
                         extra=(f"--print-to-pdf={pdf}", "--no-pdf-header-footer"))
    assert console == []
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000


def test_graded_report_and_leaderboard_render(batch_out, tmp_path):
    dom, console, png = load((batch_out / "carol.html").as_uri(), tmp_path / "carol")
    assert console == []
    png_size(png)
    assert 'id="total-score">0%' in dom and "⚑ forbidden-api" in dom

    dom, console, png = load((batch_out / "leaderboard.html").as_uri(), tmp_path / "board")
    assert console == [], "the sorting script must run under the page's CSP without errors"
    assert png_size(png) == (1366, 768)
    assert 'id="leaderboard"' in dom
    order = [line.split('data-candidate="')[1].split('"')[0]
             for line in dom.splitlines() if 'data-candidate="' in line]
    assert order == ["alice", "bob", "carol"]               # 100%, 75%, 0%
    assert 'class="num sortable"' in dom, "the script did not run"
    assert 'href="alice.html"' in dom


def test_leaderboard_sorts_from_the_url(batch_out, tmp_path):
    url = (batch_out / "leaderboard.html").as_uri() + "#sort=total:asc"
    dom, console, _ = load(url, tmp_path / "sorted", screenshot=False)
    assert console == []
    assert 'data-sorted-by="total:asc"' in dom
    order = [line.split('data-candidate="')[1].split('"')[0]
             for line in dom.splitlines() if 'data-candidate="' in line]
    assert order == ["carol", "bob", "alice"]


def test_console_errors_are_detected(tmp_path):
    """The checks above would catch a broken page: a script the CSP blocks, and one that throws."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><head><meta http-equiv='Content-Security-Policy' "
                    "content=\"default-src 'none'\"></head><body><p>x</p>"
                    "<script>document.title = 'ran'</script></body></html>")
    _, console, _ = load(page.as_uri(), tmp_path / "bad", screenshot=False)
    assert console and "Content Security Policy" in " ".join(console)
    page.write_text("<!DOCTYPE html><html><body><script>null.f()</script></body></html>")
    _, console, _ = load(page.as_uri(), tmp_path / "bad2", screenshot=False)
    assert any("Uncaught" in line for line in console)
