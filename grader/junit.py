"""JUnit XML from the result JSON: one testsuite per exercise, one testcase per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from grader.report import _write_atomic


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters; candidate messages may contain them."""
    return "".join(ch for ch in str(text) if ch in "\t\n\r" or ord(ch) >= 0x20)[:4000]


def to_junit(result: dict) -> str:
    suites = ET.Element("testsuites", name="torchdrill", tests="0", failures="0", errors="0")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for ex in result["exercises"]:
        counts = {"tests": len(ex["checks"]),
                  "failures": sum(c["outcome"] == "failed" for c in ex["checks"]),
                  "errors": sum(c["outcome"] in ("error", "timeout") for c in ex["checks"]),
                  "skipped": sum(c["outcome"] == "skipped" for c in ex["checks"])}
        suite = ET.SubElement(suites, "testsuite", name=_clean(ex["slug"]),
                              time=f"{ex.get('duration_s', 0):.3f}",
                              **{k: str(v) for k, v in counts.items()})
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="score",
                      value=f"{ex['score']:g}/{ex['max_score']:g}")
        for c in ex["checks"]:
            case = ET.SubElement(suite, "testcase", classname=_clean(ex["slug"]),
                                 name=_clean(c["name"]))
            tag = {"failed": "failure", "error": "error", "timeout": "error",
                   "skipped": "skipped"}.get(c["outcome"])
            if tag:
                ET.SubElement(case, tag, message=_clean(c["message"])[:500]).text = _clean(c["message"])
        for k in totals:
            totals[k] += counts[k]
    for k, v in totals.items():
        suites.set(k, str(v))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def write_junit(result: dict, path: Path) -> None:
    _write_atomic(path, to_junit(result) + "\n")
