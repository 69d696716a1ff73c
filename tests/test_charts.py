"""Tests of grader/report/charts.py: valid, escaped, accessible SVG whatever the rows hold."""

import xml.etree.ElementTree as ET

import pytest

from grader import timing
from grader.report import charts

SVG = "{http://www.w3.org/2000/svg}"
ROWS = [
    {"case": "resnet-3x3", "candidate_ms": 2.0, "reference_ms": 1.0, "speedup": 0.5,
     "gflops": 231.0, "reference_gflops": 462.0},
    {"case": "stride-2", "candidate_ms": 0.5, "reference_ms": 1.5, "speedup": 3.0,
     "gflops": 460.0, "reference_gflops": 153.0},
]
HOSTILE = '<script>alert("x")</script>&"\''
CHARTS = [charts.time_chart, charts.gflops_chart, charts.speedup_chart]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def texts(root) -> str:
    return " ".join("".join(el.itertext()) for el in root.iter(SVG + "text"))


@pytest.mark.parametrize("chart", CHARTS)
def test_valid_accessible_svg(chart):
    svg = chart(ROWS)
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-label")
    assert root.find(SVG + "title").text == root.get("aria-label")
    assert root.find(SVG + "desc") is not None
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "resnet-3x3" in texts(root) and "stride-2" in texts(root)
    assert all(r.find(SVG + "title") is not None for r in root.iter(SVG + "rect")
               if r.get("width") and float(r.get("height")) > 12)


def test_time_chart_bars_are_proportional():
    root = parse(charts.time_chart(ROWS))
    bars = {r.find(SVG + "title").text: float(r.get("width")) for r in root.iter(SVG + "rect")
            if r.find(SVG + "title") is not None}
    cand = bars["resnet-3x3: your kernel 2.00 ms"]
    assert bars["resnet-3x3: PyTorch 1.00 ms"] == pytest.approx(cand / 2, rel=0.01)
    assert bars["stride-2: PyTorch 1.50 ms"] == pytest.approx(cand * 0.75, rel=0.01)


@pytest.mark.parametrize("chart", CHARTS)
def test_hostile_case_names_are_escaped(chart):
    rows = [dict(ROWS[0], case=HOSTILE)]
    svg = chart(rows)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)                                   # still well-formed XML
    assert "<script>" in " ".join(root.itertext())      # shown as text, not markup


def test_speedup_chart_marks_the_one_x_line():
    root = parse(charts.speedup_chart(ROWS))
    line = [el for el in root.iter(SVG + "line") if el.get("class") == "one-x"]
    assert len(line) == 1
    assert "1×" in texts(root) and "0.50×" in texts(root) and "3.00×" in texts(root)
    mid = float(line[0].get("x1"))
    rects = [r for r in root.iter(SVG + "rect") if r.find(SVG + "title") is not None]
    slower, faster = rects
    assert float(slower.get("x")) + float(slower.get("width")) == pytest.approx(mid, abs=0.2)
    assert float(faster.get("x")) == pytest.approx(mid, abs=0.2)


def test_suspicious_speedup_is_marked():
    root = parse(charts.speedup_chart([dict(ROWS[1], speedup=50.0, suspicious=True)]))
    assert "50.0×!" in texts(root)
    assert "suspicious" in " ".join(root.itertext())


@pytest.mark.parametrize("chart", CHARTS)
@pytest.mark.parametrize("rows", [
    [], None,
    [{"case": "broken", "candidate_ms": None, "reference_ms": None, "speedup": None,
      "gflops": None, "error": "wrong result"}],
    [{"case": "zero", "candidate_ms": 0, "reference_ms": 0.0, "speedup": 0, "gflops": 0}],
    [{"case": "nan", "candidate_ms": float("nan"), "speedup": float("inf"), "gflops": "x"},
     {"case": "ok", "candidate_ms": 1.0, "reference_ms": 2.0, "speedup": 2.0, "gflops": 5.0,
      "reference_gflops": 10.0}],
    [{"candidate_ms": 1.0}],
])
def test_missing_zero_and_junk_values_do_not_crash(chart, rows):
    root = parse(chart(rows))
    assert root.get("aria-label")


def test_partial_rows_say_na():
    rows = [ROWS[0], {"case": "broken", "candidate_ms": None, "reference_ms": 1.0,
                      "speedup": None, "error": "boom"}]
    for chart in CHARTS:
        assert "n/a" in texts(parse(chart(rows)))


def test_method_sentence():
    cpu = timing.method_sentence("cpu", "AMD EPYC", 2)
    assert "CPU (AMD EPYC) with 2 threads" in cpu and "one perf_counter sample per call" in cpu
    assert "1 thread:" in timing.method_sentence("cpu", "", 1)
    cuda = timing.method_sentence("cuda", "NVIDIA H100", None)
    assert "CUDA (NVIDIA H100)" in cuda and "L2" in cuda and "TF32 off" in cuda
    for sentence in (cpu, cuda):                           # one sentence
        assert sentence.endswith(".") and ". " not in sentence


def test_timing_svgs_bundle():
    svgs = charts.timing_svgs(ROWS)
    assert len(svgs) == 3 and all(parse(s).get("role") == "img" for s in svgs)
    no_flops = [{k: v for k, v in r.items() if "gflops" not in k} for r in ROWS]
    assert len(charts.timing_svgs(no_flops)) == 2
    assert len(charts.timing_svgs(None)) == 2


def test_value_of_a_long_slow_bar_is_written_inside_it():
    """0.02x reaches the left edge: its label goes inside the bar, not over the case name."""
    svg = charts.speedup_chart([{"case": "depthwise-3x3", "speedup": 0.02},
                                {"case": "resnet", "speedup": 0.9}])
    assert '<text x="' in svg and 'fill="#fff">0.02×' in svg
    assert 'fill="#fff">0.9×' not in svg
