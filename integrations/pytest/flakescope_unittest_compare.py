"""`self.assertTrue(diff < tol)` as a captured threshold comparison.

unittest's assertTrue receives only the comparison's result, so the two compared numbers never
reach the capture (monai's `self.assertTrue(torch.abs(res - result).item() < 0.001)`,
pytorch-metric-learning's `self.assertTrue(torch.abs(var - target) / target < 0.1)`). While the
capture is on, pytest's rewriting of a test module also rewrites each `assertTrue(a OP b)` and
`assertFalse(a OP b)` (and numpy's `assert_(a OP b)`) with one ordering operator into
`assertTrue(<capture>(OP, a, b, wanted))`, and the element-wise `assertTrue((d < eps).all())`,
`assertTrue(torch.all(d < eps))` into `assertTrue(<capture>(OP, d, eps).all())`: the operands are
evaluated once, in the same order, and the call returns exactly what `a OP b` returns, so the
assertion means what it meant.
"""
import ast

_OPERATORS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
# unittest's, and numpy.testing.assert_ (tensorly's `assert_(error < tol)`): the result each
# wants of the comparison.
_METHODS = {"assertTrue": True, "assertFalse": False, "assert_": True}


def _one_ordering(node):
    return (isinstance(node, ast.Compare) and len(node.ops) == 1
            and type(node.ops[0]) in _OPERATORS)


def _elementwise_compare(node):
    """The comparison inside `(a OP b).all()` or `torch.all(a OP b)` / `np.all(a OP b)`, or None."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if (isinstance(func, ast.Attribute) and func.attr == "all" and not node.args
            and not node.keywords and _one_ordering(func.value)):
        return func.value  # (d < eps).all()
    if (isinstance(func, ast.Attribute) and func.attr == "all"
            and isinstance(func.value, ast.Name) and func.value.id in ("torch", "np", "numpy")
            and len(node.args) == 1 and not node.keywords and _one_ordering(node.args[0])):
        return node.args[0]  # torch.all(d < eps)
    return None


def _capture_call(function, compare, *extra):
    capture = ast.Attribute(
        value=ast.Call(func=ast.Name(id="__import__", ctx=ast.Load()),
                       args=[ast.Constant(value="flakescope_capture")], keywords=[]),
        attr=function, ctx=ast.Load())
    call = ast.Call(func=capture, args=[
        ast.Constant(value=_OPERATORS[type(compare.ops[0])]), compare.left,
        compare.comparators[0]] + [ast.Constant(value=v) for v in extra], keywords=[])
    return ast.copy_location(call, compare)


class _Rewriter(ast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in _METHODS or not node.args:
            return node
        argument = node.args[0]
        if _one_ordering(argument):
            node.args[0] = _capture_call("_unittest_comparison", argument, _METHODS[name])
        elif _METHODS[name] and _elementwise_compare(argument) is not None:
            # assertTrue((d < eps).all()): the element-wise comparison is replaced in place by
            # a call returning the same boolean tensor or array (assertFalse of .all() wants
            # some element to fail, which no bound describes: left alone).
            compare = _elementwise_compare(argument)
            replacement = _capture_call("_unittest_elementwise", compare)
            if argument.func.attr == "all" and argument.func.value is compare:
                argument.func.value = replacement
            else:
                argument.args[0] = replacement
        else:
            return node
        ast.fix_missing_locations(node)
        return node


def rewrite(tree):
    """The module's syntax tree with its assertTrue/assertFalse comparisons captured."""
    return _Rewriter().visit(tree)


def install():
    """Wraps pytest's rewrite_asserts; returns what undoes it (None when pytest has none)."""
    try:
        from _pytest.assertion import rewrite as pytest_rewrite
    except Exception:
        return None
    original = getattr(pytest_rewrite, "rewrite_asserts", None)
    if original is None or getattr(original, "__flakescope_original__", None) is not None:
        return None

    def rewrite_asserts(mod, *args, **kwargs):
        try:
            rewrite(mod)
        except Exception:
            pass  # never break a module's import: its asserts stay as written
        return original(mod, *args, **kwargs)

    rewrite_asserts.__flakescope_original__ = original
    pytest_rewrite.rewrite_asserts = rewrite_asserts

    def uninstall():
        if pytest_rewrite.rewrite_asserts is rewrite_asserts:
            pytest_rewrite.rewrite_asserts = original

    return uninstall
