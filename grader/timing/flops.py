"""FLOP expressions: a small arithmetic interpreter (no calls, no attributes, no builtins)."""

from __future__ import annotations

import ast
import operator
from grader.timing.references import _tensor_type


# ------------------------------------------------------------------------------ FLOP expressions

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def eval_flops(expr: str, names: dict) -> float:
    """Evaluate an arithmetic expression over `names` (no calls, attributes or builtins)."""
    tree = ast.parse(expr.strip(), mode="eval")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                known = ", ".join(sorted(names))
                raise ValueError(f"unknown name '{node.id}' in flops expression; known: {known}")
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 16:
                raise ValueError("exponent too large in flops expression")
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](ev(node.operand))
        if isinstance(node, ast.Subscript):
            seq, index = ev(node.value), ev(node.slice)
            if not isinstance(seq, tuple) or type(index) is not int:
                raise ValueError("only shape[integer] subscripts are allowed in flops expressions")
            return seq[index]
        raise ValueError(f"'{ast.unparse(node)}' is not allowed in a flops expression "
                         "(numbers, names, + - * / // % **, shape[i])")

    value = ev(tree)
    if isinstance(value, tuple) or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"flops expression '{expr}' did not give a number")
    return float(value)


def flop_names(params: dict, args, output) -> dict:
    """The names a flops expression may use (see the module docstring)."""
    names = {"groups": 1}
    for key, value in params.items():
        if isinstance(value, list):
            names[key] = tuple(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            names[key] = value
    shapes = [tuple(a.shape) for a in args if isinstance(a, _tensor_type)]
    for i, shape in enumerate(shapes):
        names[f"arg{i}"] = shape
    four = [s for s in shapes if len(s) == 4]
    if four:
        names.update(zip(("N", "C", "H", "W"), four[0]))
    if len(four) > 1:
        names.update(zip(("K", "Cg", "R", "S"), four[1]))
    if isinstance(output, _tensor_type):
        names["out"] = tuple(output.shape)
        names["out_numel"] = output.numel()
        if output.dim() == 4:
            names["P"], names["Q"] = output.shape[2], output.shape[3]
    return names
