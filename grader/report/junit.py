"""JUnit XML from the result JSON, the flavour CI systems read (Jenkins, GitLab, GitHub
test-report actions, Azure DevOps): <testsuites> with one <testsuite> per exercise and one
<testcase> per check; a failed check carries <failure message=...>, an error or time-out
<error>, a skipped check <skipped>. An exercise the engine zeroed (its `zeroed_by` flag
kinds: forbidden API, grader import, forged result, tampering) gets one more failing testcase, so CI does not show green checks for an
exercise that scored zero. Both audiences see each check by the name of the property it tests
(never a hidden check's id, which JUnit does not carry).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.files import write_atomic
from grader.kinds import Flag, Outcome
# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text, limit: int = 4000) -> str:
    """XML 1.0 cannot carry control characters, lone surrogates or U+FFFE/U+FFFF, and
    candidate messages may contain any of them."""
    return _NOT_XML.sub("\ufffd", str(text))[:limit]


def to_junit(result: dict, audience: str = "interviewer") -> str:
    """The same for both audiences: JUnit carries check names and messages, never ids or code
    (the argument stays for callers that render per audience)."""
    suites = ET.Element("testsuites", name="torchdrill")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    time_total = 0.0
    for ex in result["exercises"]:
        cases = []
        for c in ex["checks"]:
            tag = {Outcome.FAILED: "failure", Outcome.ERROR: "error", Outcome.TIMEOUT: "error",
                   Outcome.SKIPPED: "skipped"}.get(c["outcome"])
            cases.append((c["name"], tag, c.get("message", ""),
                          c.get("points", 0)))
        zeroing = set(ex.get("zeroed_by") or ())
        for f in ex["flags"]:
            if f.get("kind") in zeroing:
                cases.append((f"flag: {f['kind']} (exercise scored zero)", "failure",
                              f.get("detail", ""), 0))
        counts = {"tests": len(cases),
                  "failures": sum(t == "failure" for _, t, _, _ in cases),
                  "errors": sum(t == "error" for _, t, _, _ in cases),
                  "skipped": sum(t == "skipped" for _, t, _, _ in cases)}
        seconds = float(ex.get("duration_s") or 0.0)
        time_total += seconds
        suite = ET.SubElement(suites, "testsuite", name=_clean(ex["slug"]),
                              **{k: str(v) for k, v in counts.items()}, time=f"{seconds:.3f}",
                              timestamp=_clean(result.get("created", ""))[:19])
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="score", value=f"{ex['score']:g}/{ex['max_score']:g}")
        ET.SubElement(props, "property", name="status", value=_clean(ex["status"]))
        for name, tag, message, points in cases:
            case = ET.SubElement(suite, "testcase", classname=f"torchdrill.{_clean(ex['slug'])}",
                                 name=_clean(name), time="0")
            if tag:
                text = _clean(message)
                node = ET.SubElement(case, tag, message=_clean(message, 500))
                if tag != "skipped":
                    node.set("type", tag)
                    node.text = text
        shown = [f for f in ex["flags"] if f.get("kind") != Flag.SKIPPED]
        if shown:
            ET.SubElement(suite, "system-out").text = "\n".join(
                _clean(f"flag {f.get('kind')}: {f.get('detail', '')}", 600) for f in shown)
        for k in totals:
            totals[k] += counts[k]
    for k, v in totals.items():
        suites.set(k, str(v))
    suites.set("time", f"{time_total:.3f}")
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def write_junit(result: dict, path: Path, audience: str = "interviewer") -> None:
    write_atomic(path, to_junit(result, audience) + "\n")
