"""Small mutants of a reference solution's source, made with `ast`, for mutation testing.

Each mutant changes one thing (an operator, a constant, an argument order, an index, a dropped
statement) so that a hidden-check suite that lets it survive has a named, concrete gap.
Generation is pure and deterministic: the same source always gives the same mutants, in the
same order, with the same ids ("operator:line:col:index"), so an author can mark one as
equivalent in `solutions/<slug>/equivalent_mutants.toml` and the mark keeps meaning the same
mutant. This module must not import torch (it runs in the grading parent).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Iterator

# The operators, as ids use them (docs/mutation.md explains each).
OPERATORS = ("arith", "compare", "constant", "swap-args", "swap-index", "neg-index", "drop",
             "boolop", "unary")

_ARITH = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,),
          ast.Div: (ast.Mult, ast.FloorDiv), ast.FloorDiv: (ast.Div,)}
_COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
            ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_BOOL = {ast.And: ast.Or, ast.Or: ast.And}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!=", ast.And: "and", ast.Or: "or"}


@dataclass(frozen=True)
class Mutant:
    id: str            # "operator:line:col:index", stable while the reference is unchanged
    operator: str
    line: int
    description: str   # one line: "line 12: '+' -> '-'"
    source: str        # the whole mutated module


@dataclass(frozen=True)
class _Site:
    key: int           # the node's position in _nodes() order, the same on every fresh parse
    operator: str
    line: int          # the line the description names (the node's first line)
    id_line: int
    col: int
    index: int         # which variant at this node (an operator with several outcomes)
    what: str          # the description after "line N: "
    apply: Callable    # apply(node) mutates the node of a fresh parse in place


def _nodes(tree: ast.AST) -> list[tuple[ast.AST, bool]]:
    """Every node in a fixed depth-first order, with whether it is "inert": inside an f-string
    or an annotation. Mutating those changes only message text or type hints, never behaviour
    a check can see, so they would be equivalent mutants by construction: skip them."""
    out: list[tuple[ast.AST, bool]] = []

    def visit(node: ast.AST, inert: bool) -> None:
        out.append((node, inert))
        for name, value in ast.iter_fields(node):
            quiet = inert or isinstance(node, ast.JoinedStr) or name in ("annotation", "returns")
            for child in (value if isinstance(value, list) else [value]):
                if isinstance(child, ast.AST):
                    visit(child, quiet)

    visit(tree, False)
    return out


def _after(node: ast.AST, default: tuple[int, int]) -> tuple[int, int]:
    """The column just after `node`: where the operator (or the call's parenthesis, the
    subscript's bracket) that follows it sits. Nested operations that start at one column
    (`d * (k - 1) + 1`) get distinct ids this way, each pointing at its own operator."""
    end = getattr(node, "end_col_offset", None)
    return default if end is None else (node.end_lineno, end)


def _short(node: ast.AST, width: int = 50) -> str:
    lines = ast.unparse(node).splitlines()
    text = lines[0] if lines else ""
    return text if len(text) <= width else text[:width - 3] + "..."


def _set(field: str, value_of: Callable) -> Callable:
    """An apply() that sets node.<field> to value_of(node) (a fresh object every time)."""
    return lambda node: setattr(node, field, value_of(node))


def _docstring_ids(tree: ast.AST) -> set[int]:
    """ids of the Expr nodes that are docstrings: dropping one changes only __doc__."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                found.add(id(body[0]))
    return found


def _import_time_names(tree: ast.Module) -> set[str]:
    """Names read while the module is imported: module-level code, decorators, default values,
    base classes and class bodies (function bodies run later). Dropping a module-level
    statement that binds one of these makes the module unimportable, which every check would
    catch for a reason unrelated to what the statement does: such drops are skipped."""
    names: set[str] = set()

    def scan(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for part in node.decorator_list + node.args.defaults + \
                    [d for d in node.args.kw_defaults if d is not None]:
                scan(part)
            return
        if isinstance(node, ast.Lambda):
            for part in node.args.defaults:
                scan(part)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            scan(child)

    scan(tree)
    return names


def _binds(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _sites(tree: ast.Module) -> Iterator[_Site]:
    docstrings = _docstring_ids(tree)
    import_time = _import_time_names(tree)
    for key, (node, inert) in enumerate(_nodes(tree)):
        if inert:
            continue
        line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)

        def site(op, index, what, apply, at=None, line=line, col=col, key=key):
            # the id's position: where the changed operator sits (at), else the node's start
            id_line, id_col = at or (line, col)
            return _Site(key, op, line, id_line, id_col, index, what, apply)

        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _ARITH:
            at = _after(node.left if isinstance(node, ast.BinOp) else node.target, (line, col))
            for i, new in enumerate(_ARITH[type(node.op)]):
                yield site("arith", i, f"'{_SYMBOL[type(node.op)]}' -> '{_SYMBOL[new]}'",
                           _set("op", lambda n, new=new: new()), at=at)
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _COMPARE:
                    new = _COMPARE[type(op)]

                    def swap(n, i=i, new=new):
                        n.ops[i] = new()
                    left = node.left if i == 0 else node.comparators[i - 1]
                    yield site("compare", 0, f"'{_SYMBOL[type(op)]}' -> '{_SYMBOL[new]}'", swap,
                               at=_after(left, (line, col)))
        elif isinstance(node, ast.BoolOp):
            new = _BOOL[type(node.op)]
            yield site("boolop", 0, f"'{_SYMBOL[type(node.op)]}' -> '{_SYMBOL[new]}'",
                       _set("op", lambda n, new=new: new()), at=_after(node.values[0], (line, col)))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            yield from _unary_sites(node, site)
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                yield site("constant", 0, f"{value} -> {not value}",
                           _set("value", lambda n: not n.value))
            elif _int(value):
                # 0 -> 1 only: 0 -> -1 rarely means anything but "another invalid size"
                for i, new in enumerate([value + 1] if value == 0 else [value - 1, value + 1]):
                    yield site("constant", i, f"{value} -> {new}",
                               _set("value", lambda n, new=new: new))
        elif isinstance(node, ast.Call):
            args = node.args
            if len(args) >= 2 and not any(isinstance(a, ast.Starred) for a in args):
                for i in range(len(args) - 1):
                    def swap_args(n, i=i):
                        n.args[i], n.args[i + 1] = n.args[i + 1], n.args[i]
                    yield site("swap-args", i, f"swapped arguments {i + 1} and {i + 2} of "
                               f"'{_short(node)}'", swap_args, at=_after(node.func, (line, col)))
        elif isinstance(node, ast.Subscript):
            yield from _subscript_sites(node, site)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                             ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith,
                             ast.Try, ast.ExceptHandler)):
            yield from _drop_sites(node, key, docstrings, import_time)


def _unary_sites(node: ast.UnaryOp, site) -> Iterator[_Site]:
    # -<int> as an index is the neg-index operator's (one mutant per change, not two ids)
    if isinstance(node.operand, ast.Constant) and getattr(node, "_index", False):
        return
    yield site("unary", 0, f"'{_short(node)}' -> '{_short(node.operand)}'",
               lambda n: None)  # replaced by the parent, see _replace_unary


def _subscript_sites(node: ast.Subscript, site) -> Iterator[_Site]:
    index = node.slice
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    if isinstance(index, ast.Tuple) and len(parts) >= 2 \
            and not any(isinstance(p, (ast.Slice, ast.Starred)) for p in parts):
        for i in range(len(parts) - 1):
            def swap(n, i=i):
                elts = n.slice.elts
                elts[i], elts[i + 1] = elts[i + 1], elts[i]
            yield site("swap-index", i, f"swapped indices {i + 1} and {i + 2} of "
                       f"'{_short(node)}'", swap, at=_after(node.value, None))
    for i, part in enumerate(parts):
        if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.USub) \
                and isinstance(part.operand, ast.Constant) and _int(part.operand.value):

            def flip(n, i=i, tuple_=isinstance(index, ast.Tuple)):
                if tuple_:
                    n.slice.elts[i] = n.slice.elts[i].operand
                else:
                    n.slice = n.slice.operand
            yield site("neg-index", i, f"index -{part.operand.value} -> {part.operand.value} in "
                       f"'{_short(node)}'", flip, at=_after(node.value, None))


def _drop_sites(node: ast.AST, key: int, docstrings: set[int], import_time: set[str]):
    for field in ("body", "orelse", "finalbody"):
        body = getattr(node, field, None)
        if not isinstance(body, list):
            continue
        for i, stmt in enumerate(body):
            if isinstance(stmt, (ast.Return, ast.Pass, ast.Import, ast.ImportFrom)) \
                    or id(stmt) in docstrings:
                continue
            if isinstance(node, ast.Module):
                # a module-level def or class is the API: dropping it fails every check that
                # calls it for the trivial reason "no such function"; a module-level binding
                # read at import time makes the module unimportable; a block holding an import
                # (`try: import x / except ImportError`) is an import for this purpose
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                        or _binds(stmt) & import_time \
                        or any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(stmt)):
                    continue

            def drop(n, field=field, i=i):
                getattr(n, field)[i] = ast.copy_location(ast.Pass(), getattr(n, field)[i])
            yield _Site(key, "drop", stmt.lineno, stmt.lineno, stmt.col_offset, 0,
                        f"dropped '{_short(stmt)}'", drop)


def _replace_unary(tree: ast.AST, key: int) -> None:
    """Replace the UnaryOp at `key` by its operand, wherever it hangs in its parent."""
    target = _nodes(tree)[key][0]
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, name, target.operand)
                return
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if child is target:
                        value[i] = target.operand
                        return


def _mutate(source: str, site: _Site) -> str | None:
    tree = ast.parse(source)
    _mark_indices(tree)
    if site.operator == "unary":
        _replace_unary(tree, site.key)
    else:
        site.apply(_nodes(tree)[site.key][0])
    ast.fix_missing_locations(tree)
    try:
        text = ast.unparse(tree)
        compile(text, "<mutant>", "exec")
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return None
    return text


def _mark_indices(tree: ast.AST) -> None:
    """Mark -<int> subscript indices before sites are listed (so unary skips them)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for part in parts:
                if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.USub) \
                        and isinstance(part.operand, ast.Constant) and _int(part.operand.value):
                    part._index = True


def generate(source: str, operators=OPERATORS) -> list[Mutant]:
    """Every mutant of `source`, ordered by (line, column, operator, index). Mutants whose
    source equals the original (after ast.unparse, so formatting does not count), that do not
    compile, or that repeat an earlier mutant's source are left out."""
    tree = ast.parse(source)
    _mark_indices(tree)
    original = ast.unparse(tree)
    sites = sorted((s for s in _sites(tree) if s.operator in operators),
                   key=lambda s: (s.id_line, s.col, OPERATORS.index(s.operator), s.index, s.key))
    seen = {original}
    mutants, ids = [], set()
    for s in sites:
        text = _mutate(source, s)
        if text is None or text in seen:
            continue
        seen.add(text)
        mutant_id = f"{s.operator}:{s.id_line}:{s.col}:{s.index}"
        while mutant_id in ids:   # two sites at one position (a node and its statement)
            mutant_id += "+"
        ids.add(mutant_id)
        mutants.append(Mutant(mutant_id, s.operator, s.line, f"line {s.line}: {s.what}", text))
    return mutants
