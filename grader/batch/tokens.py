"""Normalised tokens of Python source for the similarity report (grader/batch/similarity.py): what a copier changes for free is abstracted away."""

# Python's tokenizer minus comments, bare string statements (docstrings), layout and
# parentheses (reformatters add and drop them); identifiers become V, numbers N, strings S.
# Kept: keywords, operators and names after a "." (torch.matmul, x.reshape) unless the file
# defines them (self.conv1 = ...): renaming costs a copier nothing, but independent solutions
# differ in WHICH library calls they make. Measured: tests/test_similarity.py
# test_measurement_table (the keep_* switches are the alternatives it rejected).

from __future__ import annotations

import keyword
import sys
import tokenize
from io import StringIO

__all__ = ["normalise"]

_KEYWORDS = frozenset(keyword.kwlist)
# Python 3.12 splits f-strings into START/MIDDLE/END tokens; 3.11 has one STRING token
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)

# The tokenize module of 3.11 is pure Python (about 30 us a line: 2 s for a 200-candidate
# batch); the C tokenizer that tokenize wraps from 3.12 on is 5x faster. Its 3.11 entry point
# is private and changed in 3.12, so it is used on 3.11 only, and any error (a syntax error
# included) falls back to tokenize; tests/test_similarity.py checks both give equal tokens.
_C_TOKENS = None
if sys.version_info[:2] == (3, 11):
    try:
        from _tokenize import TokenizerIter as _C_TOKENS
    except ImportError:
        pass

_SKIP = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
                   tokenize.ENCODING})
_ENDS = frozenset({tokenize.NEWLINE, tokenize.ENDMARKER})
_ASSIGN_OPS = frozenset({"=", "+=", "-=", "*=", "/=", "//=", "%=", "@=", "&=", "|=", "^=",
                         ">>=", "<<=", "**="})


def _py_tokens(source: str):
    """tokenize's tokens in the C tokenizer's shape: (text, type, line, end line, ...)."""
    try:
        for kind, text, start, end, _ in tokenize.generate_tokens(StringIO(source).readline):
            yield text, kind, start[0], end[0], 0, 0, ""
    except (tokenize.TokenError, SyntaxError):
        # EOF inside a bracket, a bad dedent: keep what was read, a copied broken file is
        # still a copy
        return


def normalise(source: str, keep_attributes: bool = True, keep_parens: bool = False,
              fast: bool = True) -> list[tuple[str, int, int]]:
    """(normalised token, first line, last line) for each significant token of `source`.
    Never raises. The keep_* switches are the alternatives the measurement rejected."""
    parens = () if keep_parens else ("(", ")")
    if fast and _C_TOKENS is not None:
        try:
            return _normalise(_C_TOKENS(source), keep_attributes, parens)
        except Exception:  # noqa: BLE001 - a syntax error, or a private API surprise
            pass
    return _normalise(_py_tokens(source), keep_attributes, parens)


def _normalise(tokens, keep_attributes: bool, parens) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    line: list[tuple[str, int, int]] = []         # the current statement
    strings = 0                                   # how many of its tokens are strings
    attrs: list[int] = []                         # where kept attribute names are in out
    line_attrs: list[int] = []
    # Attribute and method names the file itself defines (self.conv1 = ..., def helper) are
    # the candidate's choice, so a copier renames them; library names (x.reshape) he cannot.
    own: set[str] = set()
    skip, ends, assign, keywords = _SKIP, _ENDS, _ASSIGN_OPS, _KEYWORDS
    name, number, string = tokenize.NAME, tokenize.NUMBER, tokenize.STRING
    prev, prev_attr = "", ""
    fstring_depth, fstring_line = 0, 0
    for text, kind, first, last, _, _, _ in tokens:
        if kind in skip:
            continue
        if fstring_depth:                         # 3.12: the whole f-string is one S
            if kind == _FSTRING_START:
                fstring_depth += 1
            elif kind == _FSTRING_END:
                fstring_depth -= 1
                if not fstring_depth:
                    line.append(("S", fstring_line, last))
                    strings += 1
                    prev = prev_attr = ""
            continue
        attr = ""
        if kind == name:
            if text in keywords:
                norm = text
            elif prev == "." and keep_attributes:
                norm = attr = text                # torch.matmul, x.reshape: the API used
                line_attrs.append(len(line))
            else:
                norm = "V"
                if prev == "def" or prev == "class":
                    own.add(text)
        elif kind == string:
            norm = "S"
            strings += 1
        elif kind == number:
            norm = "N"
        elif kind in ends:
            # a statement made only of strings is a docstring or a string used as a comment
            if strings != len(line):
                attrs.extend(len(out) + i for i in line_attrs)
                out.extend(line)
            line, strings, line_attrs = [], 0, []
            prev = prev_attr = ""
            continue
        elif kind == _FSTRING_START:
            fstring_depth, fstring_line = 1, first
            continue
        elif text in parens:
            # reformatters add and drop them (return (a, b), (not x)); measured: with them
            # the worst disguised copy scored 0.60, without them 0.82
            continue
        else:
            norm = text.strip()
            if not norm:
                continue
            if prev_attr and norm in assign:
                own.add(prev_attr)
        line.append((norm, first, last))
        prev, prev_attr = text, attr
    if strings != len(line):                      # a file cut short inside a statement
        attrs.extend(len(out) + i for i in line_attrs)
        out.extend(line)
    if own:
        for i in attrs:
            if out[i][0] in own:
                out[i] = ("V",) + out[i][1:]
    return out
