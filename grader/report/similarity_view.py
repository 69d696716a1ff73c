"""The similarity page of a batch: flagged pairs side by side with the matching lines marked, self-contained and HTML-escaped."""

# Plain html.escape on every string that comes from a submission or a name (candidate names
# are file names, code is anything): no template engine needed for one static page, and no
# external resource, so the page opens offline and leaks nothing when mailed around.
# `pairs` are grader.batch.similarity.Pair objects (or anything with the same attributes).

from __future__ import annotations

from html import escape

MAX_PAIRS_SHOWN = 100      # side-by-side blocks; a batch-wide cluster would make a huge page
MAX_TABLE_ROWS = 1000      # rows of the pair table (the CSV has every pair)
WORDING = "Similarity is evidence for a person to look at, not a verdict"

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.1rem; margin: 1.8rem 0 .3rem; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .5rem .8rem; }
table.pairs { border-collapse: collapse; margin: .8rem 0; }
table.pairs td, table.pairs th { border-bottom: 1px solid #ddd; padding: .2rem .6rem;
  text-align: left; vertical-align: top; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: .8rem; }
.side > div { min-width: 0; }
.side h3 { font-size: .95rem; margin: .4rem 0; word-break: break-all; }
pre { background: #f7f7f8; padding: .4rem 0; overflow-x: auto; font-size: 12px; margin: 0; }
pre span.ln { display: inline-block; width: 3.5em; color: #999; text-align: right;
  padding-right: .8em; user-select: none; }
mark.match { background: #ffe08a; display: inline-block; width: 100%; }
.signals { color: #555; }
"""


# ----------------------------------------------------------------------------- pieces

def _lines_in(regions) -> set[int]:
    marked = set()
    for first, last in regions or ():
        marked.update(range(int(first), int(last) + 1))
    return marked


def _code(source: str | None, regions) -> str:
    """Numbered lines; the lines of a matching region inside <mark class="match">."""
    if not source:
        return "<p><em>no code for this exercise</em></p>"
    marked = _lines_in(regions)
    rows = []
    for number, line in enumerate(source.splitlines(), 1):
        text = f'<span class="ln">{number}</span>{escape(line)}'
        # blank lines inside a matching range stay unmarked: the eye goes to the code
        rows.append(f'<mark class="match">{text}</mark>' if number in marked and line.strip()
                    else text)
    return "<pre>" + "\n".join(rows) + "</pre>"


def _source(submissions: dict, candidate: str, exercise: str) -> str | None:
    return (submissions.get(candidate) or {}).get(exercise)


def _ranges(regions) -> str:
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in regions or ()) or "none"


def _link(index: int, text: str) -> str:
    """A link to the pair's side-by-side block, which only the first pairs have."""
    return f'<a href="#pair-{index}">{text}</a>' if index < MAX_PAIRS_SHOWN else text


def _pair_block(index: int, pair, submissions: dict) -> str:
    signals = "; ".join(pair.signals) or "no signal"
    return (
        f'<section id="pair-{index}">'
        f"<h2>{escape(pair.exercise)}: {escape(pair.a)} and {escape(pair.b)}"
        f" &middot; {pair.score:.2f}</h2>"
        f'<p class="signals">{escape(signals)}</p>'
        '<div class="side">'
        f"<div><h3>{escape(pair.a)} (matching lines {escape(_ranges(pair.regions_a))})</h3>"
        f"{_code(_source(submissions, pair.a, pair.exercise), pair.regions_a)}</div>"
        f"<div><h3>{escape(pair.b)} (matching lines {escape(_ranges(pair.regions_b))})</h3>"
        f"{_code(_source(submissions, pair.b, pair.exercise), pair.regions_b)}</div>"
        "</div></section>"
    )


# ----------------------------------------------------------------------------- the page

def render_similarity_html(pairs, submissions: dict, threshold: float) -> str:
    """The whole page: the caveat, a table of the pairs at or above `threshold`, then each
    pair's two sources side by side (the first MAX_PAIRS_SHOWN)."""
    candidates = set(submissions) | {p.a for p in pairs} | {p.b for p in pairs}
    flagged = sorted((p for p in pairs if p.score and p.score >= threshold),
                     key=lambda p: (-p.score, p.exercise, p.a, p.b))
    body = [
        "<h1>Similarity between candidates</h1>",
        f'<p class="note"><strong>{WORDING}.</strong> A high score means two submissions '
        "share long runs of code (after renaming, comments and the exercise's stub are set "
        "aside) or failed the same checks with the same wrong values. Short exercises and "
        "the obvious solution make honest candidates look alike: read the code.</p>",
        f"<p>{len(candidates)} candidate{'s' if len(candidates) != 1 else ''}; "
        f"threshold {threshold:.2f}.</p>",
    ]
    if len(candidates) < 2:
        body.append(f"<p>{'one candidate' if candidates else 'no candidates'}: "
                    "no pairs to compare.</p>")
    elif not flagged:
        body.append(f"<p>No pair scores at or above the threshold ({threshold:.2f}).</p>")
    else:
        rows = "".join(
            f"<tr><td>{_link(i, escape(p.exercise))}</td><td>{escape(p.a)}</td>"
            f"<td>{escape(p.b)}</td><td>{p.score:.2f}</td>"
            f"<td>{escape('; '.join(p.signals))}</td></tr>"
            for i, p in enumerate(flagged[:MAX_TABLE_ROWS]))
        body.append(f"<p>{len(flagged)} pair{'s' if len(flagged) != 1 else ''} at or above "
                    "the threshold.</p>"
                    '<table class="pairs"><tr><th>exercise</th><th>candidate</th>'
                    f"<th>candidate</th><th>score</th><th>signals</th></tr>{rows}</table>")
        if len(flagged) > MAX_TABLE_ROWS:
            body.append(f"<p>{len(flagged) - MAX_TABLE_ROWS} more pairs: see the CSV.</p>")
        body.extend(_pair_block(i, p, submissions)
                    for i, p in enumerate(flagged[:MAX_PAIRS_SHOWN]))
        if len(flagged) > MAX_PAIRS_SHOWN:
            body.append(f"<p>The code of the first {MAX_PAIRS_SHOWN} pairs is shown; "
                        f"{len(flagged) - MAX_PAIRS_SHOWN} more are in the table and the CSV."
                        "</p>")
    # the same policy as the other reports: nothing loads, nothing runs, even if an escape
    # were ever missed
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" "
            "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            "<title>torchdrill: similarity</title>"
            f"<style>{_CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n")
