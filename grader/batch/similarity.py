"""Similarity between candidates (winnowed code fingerprints and identical wrong answers): evidence for a person to look at, never a verdict."""

# How it works (every number measured: tests/test_similarity.py::test_measurement_table)
# 1. normalise() (grader/batch/tokens.py): Python's tokens minus comments, docstrings, layout
#    and parentheses; identifiers become V, numbers N, strings S; library names after a "."
#    (torch.matmul, x.reshape) are kept unless the file defines them.
# 2. Winnowing (Schleimer, Wilkerson & Aiken, SIGMOD 2003): hash every K-token k-gram, keep
#    the rightmost minimum of each WINDOW consecutive hashes; a common run of K + WINDOW - 1
#    tokens always shares a fingerprint, one shorter than K never. Every k-gram of the stub
#    is removed first (boilerplate): two candidates who changed nothing share nothing.
# 3. score = shared fingerprints / fingerprints of the smaller submission, the denominator
#    floored at MIN_FINGERPRINTS. Containment, not Jaccard: code added by a copier does not
#    dilute it.
# behaviour_signal() is a second, independent clue: checks two candidates failed with the
# same wrong value (the message prints it).
# Not copydetect (PyPI): it k-grams characters of pygments-filtered text, keeps docstrings,
# separated the measured copies from the alternatives worse and was about 20x slower.

from __future__ import annotations

import csv
import io
import re
import zlib
from dataclasses import dataclass, field
from functools import reduce
from itertools import combinations
from operator import or_
from pathlib import Path

# normalise is looked up here at call time (the measurement test swaps it): import the name
from grader.batch.tokens import normalise
from grader.files import write_atomic

__all__ = ["K", "THRESHOLD", "WINDOW", "Pair", "behaviour_signal", "code_similarity",
           "concat_sources", "kgram_hashes", "normalise", "similar_to", "similarity_report",
           "submissions_from_results", "to_csv", "winnow", "write_csv"]


# ----------------------------------------------------------------------------- parameters

K = 20                  # tokens per k-gram (about two lines)     } measured, see
WINDOW = 6              # winnowing window: any common run of     } tests/test_similarity.py
                        # K + WINDOW - 1 = 25 tokens is found     } test_measurement_table
THRESHOLD = 0.6         # flag at or above: disguised copies scored >= 0.82, independent
                        # correct solutions <= 0.38; the middle leaves room on both sides
MIN_FINGERPRINTS = 8    # score denominator floor: a few shared lines are not a copy
WEAK_FINGERPRINTS = 20  # below this (a one-line solution) the signals say the code is short
COMMON_FRACTION = None  # discount fingerprints held by more than this fraction of a batch;
                        # off by default: a solution leaked to most of a batch would vanish
COMMON_MIN_BATCH = 10   # ... and never in batches smaller than this (half of 2 is everyone)
BEHAVIOUR_MIN_CHECKS = 3  # behaviour score denominator floor: one shared wrong value is weak
REGION_LIMIT = 2000     # pairs given highlighted regions (best first): a batch-wide cluster
                        # has tens of thousands, the page shows 100
COMMON_MISTAKE = 0.1    # a wrong value more candidates than this share is a common mistake
FAILED = ("failed", "error")  # timeouts say nothing about the value the code computed


@dataclass
class Pair:
    """Two candidates on one exercise; regions are 1-based inclusive line ranges."""
    exercise: str
    a: str
    b: str
    score: float
    signals: list[str] = field(default_factory=list)
    regions_a: list[tuple[int, int]] = field(default_factory=list)
    regions_b: list[tuple[int, int]] = field(default_factory=list)


# ----------------------------------------------------------------------------- winnowing

def kgram_hashes(tokens: list[tuple[str, int, int]], k: int = K) -> list[int]:
    """Hash of the k-gram starting at each token (deterministic across runs)."""
    cache: dict[str, int] = {}
    ids = []
    for text, *_ in tokens:
        value = cache.get(text)
        if value is None:
            value = cache[text] = zlib.crc32(text.encode())
        ids.append(value)
    # zip builds the k-tuples in C; a tuple of ints hashes the same in every process
    # (str hashes are salted per process)
    return list(map(hash, zip(*[ids[i:] for i in range(k)])))


def winnow(hashes: list[int], window: int = WINDOW) -> dict[int, list[int]]:
    """Fingerprint hash -> k-gram positions: the rightmost minimum of every window."""
    picked: dict[int, list[int]] = {}
    n = len(hashes)
    if n == 0:
        return picked
    if n < window:                                # shorter than one window: its minimum
        window = n
    best = -1
    for end in range(window - 1, n):
        start = end - window + 1
        if best < start:                          # the minimum left the window: rescan
            part = hashes[start:end + 1]
            low = min(part)
            best = end - part[::-1].index(low)
        elif hashes[end] <= hashes[best]:         # the new hash is the (rightmost) minimum
            best = end
        else:
            continue
        picked.setdefault(hashes[best], []).append(best)
    return picked


@dataclass
class _Doc:
    tokens: list[tuple[str, int, int]]
    prints: dict[int, list[int]]                  # fingerprint -> k-gram start positions
    masks: dict[int, int] | None = None           # fingerprint -> its lines, as bits


def _document(source: str, boiler: set[int], k: int, window: int) -> _Doc:
    tokens = normalise(source)
    prints = winnow(kgram_hashes(tokens, k), window)
    return _Doc(tokens, {h: p for h, p in prints.items() if h not in boiler})


_RUNS = re.compile("1+")


def _regions(doc: _Doc, shared, k: int) -> list[tuple[int, int]]:
    """Merged 1-based line ranges covered by the k-grams of the shared fingerprints."""
    if doc.masks is None:
        # once per document: a batch-wide cluster asks for the regions of thousands of pairs,
        # and OR-ing ints is far cheaper than sorting and merging spans each time
        masks = doc.masks = {}
        toks = doc.tokens
        for h, positions in doc.prints.items():
            bits = 0
            for pos in positions:
                bits |= (1 << (toks[pos + k - 1][2] + 1)) - (1 << toks[pos][1])
            masks[h] = bits
    bits = reduce(or_, map(doc.masks.__getitem__, shared), 0)
    text = bin(bits)[:1:-1]                       # bit i (line i) at index i
    return [(m.start(), m.end() - 1) for m in _RUNS.finditer(text)]


# ----------------------------------------------------------------------------- code similarity

class _Batch:
    """Fingerprints of one exercise's submissions, computed once; pairs and regions from it."""

    def __init__(self, exercise, files, stub, k, window, common_fraction):
        self.exercise, self.k = exercise, k
        # every k-gram of the stub (not only its winnowed ones): what the candidate was given
        boiler = set(kgram_hashes(normalise(stub), k)) if stub else set()
        seen: dict[str, _Doc] = {}               # identical files (untouched stubs): once
        self.docs = {}
        for name, src in sorted(files.items()):
            src = src or ""
            if src not in seen:
                seen[src] = _document(src, boiler, k, window)
            self.docs[name] = seen[src]
        if common_fraction is not None and len(self.docs) >= COMMON_MIN_BATCH:
            counts: dict[int, int] = {}
            for doc in self.docs.values():
                for h in doc.prints:
                    counts[h] = counts.get(h, 0) + 1
            common = {h for h, n in counts.items() if n > common_fraction * len(self.docs)}
            for doc in self.docs.values():
                doc.prints = {h: p for h, p in doc.prints.items() if h not in common}

    def pairs(self) -> list[Pair]:
        keys = {name: frozenset(doc.prints) for name, doc in self.docs.items()}
        out = []
        for a, b in combinations(self.docs, 2):
            ka, kb = keys[a], keys[b]
            shared = len(ka.intersection(kb))
            if not shared:
                out.append(Pair(self.exercise, a, b, 0.0))
                continue
            smaller = min(len(ka), len(kb))
            score = round(shared / max(smaller, MIN_FINGERPRINTS), 4)
            signals = [f"code {score:.2f}"]
            if smaller < WEAK_FINGERPRINTS:
                # a one-line solution: every correct candidate writes about the same line
                signals.append(f"little code of their own to compare ({smaller} fingerprints)")
            out.append(Pair(self.exercise, a, b, score, signals))
        return out

    def fill_regions(self, pair: Pair) -> None:
        da, db = self.docs[pair.a], self.docs[pair.b]
        shared = da.prints.keys() & db.prints.keys()
        pair.regions_a = _regions(da, shared, self.k)
        pair.regions_b = _regions(db, shared, self.k)


def _finish(pairs: list[Pair], batches: dict[str, _Batch], threshold: float) -> list[Pair]:
    """Best first; regions for the REGION_LIMIT best pairs at or above the threshold."""
    pairs.sort(key=lambda p: (-p.score, p.exercise, p.a, p.b))
    for pair in pairs[:REGION_LIMIT]:
        if not pair.score or pair.score < threshold:
            break
        if pair.exercise in batches and pair.a in batches[pair.exercise].docs \
                and pair.b in batches[pair.exercise].docs:
            batches[pair.exercise].fill_regions(pair)
    return pairs


def code_similarity(exercise: str, files: dict[str, str], stub: str = "",
                    threshold: float = THRESHOLD, *, k: int = K, window: int = WINDOW,
                    common_fraction: float | None = COMMON_FRACTION) -> list[Pair]:
    """Every pair of `files` (candidate -> source), best first. Regions are filled in for
    pairs at or above `threshold` only (the REGION_LIMIT best): those a person is shown."""
    batch = _Batch(exercise, files, stub, k, window, common_fraction)
    return _finish(batch.pairs(), {exercise: batch}, threshold)


# ----------------------------------------------------------------------------- behaviour

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def _message(check: dict) -> str:
    # object addresses differ between runs of the same code
    return _ADDRESS.sub("0x?", str(check.get("message") or "").strip())


def _informative(ex: dict) -> dict[str, str]:
    """check id -> message of the checks failed with a message that can show a value."""
    if ex.get("status") == "missing":
        return {}
    failed = {str(c.get("id")): _message(c) for c in ex.get("checks", [])
              if c.get("outcome") in FAILED}
    failed = {cid: m for cid, m in failed.items() if m and not m.startswith("not run")}
    if len(failed) >= 2 and len(set(failed.values())) == 1:
        return {}                # one run-wide cause: a syntax error, a rejected submission
    return failed


def behaviour_signal(results: dict[str, dict]) -> dict[tuple[str, str, str], list[str]]:
    """(exercise, a, b) -> ids of checks both failed with the identical message.

    Left out, as they show no computed value: exercises with no submission, timeouts,
    "not run: ..." checks, a message a candidate got on every failing check of an exercise
    (a syntax error, a forbidden call, a rejected submission: one cause, not a value), a
    message every failing candidate of a check shares (when 3 or more failed it), and one
    shared by more than 2 and more than COMMON_MISTAKE of the exercise's candidates (a
    common mistake gives everyone who makes it the same value: no clue who copied)."""
    failures: dict[str, dict[str, dict[str, str]]] = {}    # slug -> check id -> cand -> msg
    present: dict[str, int] = {}                            # slug -> candidates submitting
    for cand, result in results.items():
        for ex in (result or {}).get("exercises", []):
            slug = ex.get("slug", "")
            if ex.get("status") != "missing":
                present[slug] = present.get(slug, 0) + 1
            for cid, msg in _informative(ex).items():
                failures.setdefault(slug, {}).setdefault(cid, {})[cand] = msg
    out: dict[tuple[str, str, str], list[str]] = {}
    for slug, checks in failures.items():
        for cid, by_cand in checks.items():
            groups: dict[str, list[str]] = {}
            for cand, msg in by_cand.items():
                groups.setdefault(msg, []).append(cand)
            for cands in groups.values():
                everyone = len(cands) == len(by_cand) and len(cands) >= 3
                common = len(cands) > max(2, COMMON_MISTAKE * present[slug])
                if len(cands) < 2 or everyone or common:
                    continue
                for a, b in combinations(sorted(cands), 2):
                    out.setdefault((slug, a, b), []).append(cid)
    return {key: sorted(ids) for key, ids in out.items()}


def _failed_counts(results: dict[str, dict]) -> dict[tuple[str, str], int]:
    """(candidate, slug) -> informative failed checks (the behaviour score denominator)."""
    return {(cand, ex.get("slug", "")): len(_informative(ex))
            for cand, result in results.items() for ex in (result or {}).get("exercises", [])}


# ----------------------------------------------------------------------------- combined report

def concat_sources(sources: dict[str, str]) -> str:
    """One text from an exercise's files (a result's "sources"), in file-name order; the
    header lines are comments, so they add no tokens."""
    if len(sources) == 1:
        return next(iter(sources.values()))
    return "".join(f"# ==== {name} ====\n{text}{'' if text.endswith(chr(10)) else chr(10)}"
                   for name, text in sorted(sources.items()))


def submissions_from_results(results: dict[str, dict]) -> dict[str, dict[str, str]]:
    """candidate -> {slug -> source} from the "sources" each result JSON carries."""
    return {cand: {ex["slug"]: concat_sources(ex["sources"])
                   for ex in (result or {}).get("exercises", []) if ex.get("sources")}
            for cand, result in results.items()}


def similarity_report(submissions: dict[str, dict[str, str]], results: dict[str, dict],
                      stubs: dict[str, str], threshold: float = THRESHOLD) -> list[Pair]:
    """Every pair of every exercise, best first: score = max(code, behaviour), where
    behaviour = shared wrong values / max(fewer failed checks of the two, 3)."""
    behaviour = behaviour_signal(results or {})
    failed = _failed_counts(results or {})
    pairs, batches = [], {}
    for slug in sorted({slug for subs in submissions.values() for slug in subs}):
        files = {cand: subs[slug] for cand, subs in submissions.items() if slug in subs}
        batches[slug] = _Batch(slug, files, stubs.get(slug, ""), K, WINDOW, COMMON_FRACTION)
        pairs.extend(batches[slug].pairs())
    by_key = {(p.exercise, p.a, p.b): p for p in pairs}
    for (slug, a, b), ids in behaviour.items():
        pair = by_key.get((slug, a, b))
        if pair is None:          # no code for one of them (no sources): the values still count
            pair = Pair(slug, a, b, 0.0)
            pairs.append(pair)
        fewer = min(failed.get((a, slug), 0), failed.get((b, slug), 0))
        pair.score = max(pair.score, round(len(ids) / max(fewer, BEHAVIOUR_MIN_CHECKS), 4))
        pair.signals.append(_behaviour_words(ids))
    return _finish(pairs, batches, threshold)


def _behaviour_words(ids: list[str]) -> str:
    names = ", ".join(cid.split("::")[-1] for cid in ids[:5]) + (", ..." if len(ids) > 5 else "")
    return f"same wrong values in {len(ids)} check{'s' if len(ids) != 1 else ''} ({names})"


# ----------------------------------------------------------------------------- outputs

def _csv_safe(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; candidate names are input."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(pairs: list[Pair]) -> str:
    """exercise,candidate_a,candidate_b,score,signals (signals joined with "; ")."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["exercise", "candidate_a", "candidate_b", "score", "signals"])
    for p in pairs:
        writer.writerow([_csv_safe(p.exercise), _csv_safe(p.a), _csv_safe(p.b),
                         f"{p.score:.3f}", _csv_safe("; ".join(p.signals))])
    return buf.getvalue()


def write_csv(pairs: list[Pair], path) -> None:
    """to_csv() into `path`, atomically (a reader never sees half a file)."""
    write_atomic(Path(path), to_csv(pairs))


def similar_to(pairs: list[Pair], threshold: float = THRESHOLD) -> dict[str, list[str]]:
    """candidate -> the other candidates of a pair at or above threshold (any exercise)."""
    out: dict[str, set[str]] = {}
    for p in pairs:
        if p.score and p.score >= threshold:
            out.setdefault(p.a, set()).add(p.b)
            out.setdefault(p.b, set()).add(p.a)
    return {cand: sorted(others, key=str.lower) for cand, others in sorted(out.items())}
