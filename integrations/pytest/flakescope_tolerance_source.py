"""Where a tolerance given by name is defined: `atol=self.ATOL` (a class attribute, or one set in
setUp), `decimal=PREC_DBL` or `diff < norm_diff_tol` (a module constant), `tol = 1e-5` earlier in
the same function. The capture line then carries `tolerance_definition` ({name, at, value}) and
the fix edits that line, once for every comparison sharing it (backpack's `ATOL = 1e-6`, read by a
helper two calls down from the test).

Only a definition that assigns a plain number literal, equal to the value the comparison used, is
reported: anything computed is left to the maintainer.
"""
import ast
import inspect
import linecache
import sys
import textwrap

# The keywords that carry an absolute tolerance (or numpy's decimal, unittest's delta), in the
# order they are looked for in a call.
ATOL_KEYWORDS = ("atol", "delta", "decimal", "abs", "tol", "tolerance", "eps", "prec",
                 "precision")

_TREES = {}  # code object or file name -> syntax tree (None: unreadable)
_CACHE = {}


def _function_tree(code):
    if code not in _TREES:
        lines = linecache.getlines(code.co_filename)
        try:
            block = inspect.getblock(lines[code.co_firstlineno - 1:]) if lines else []
            _TREES[code] = ast.parse(textwrap.dedent("".join(block))) if block else None
        except (SyntaxError, ValueError, IndexError):
            _TREES[code] = None
    return _TREES[code]


def _module_tree(filename):
    if filename not in _TREES:
        try:
            _TREES[filename] = ast.parse("".join(linecache.getlines(filename)))
        except (SyntaxError, ValueError):
            _TREES[filename] = None
    return _TREES[filename]


def _number(node):
    """The value of a number literal (`1e-5`, `-2`), else None (booleans are not tolerances)."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
            node.value, bool):
        return sign * float(node.value)
    return None


def _assigned_literal(nodes, matches):
    """(line, value) of the last `target = <number>` among `nodes` whose target `matches`."""
    found = None
    for node in nodes:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        number = _number(value)
        if number is not None and any(matches(t) for t in targets):
            found = node.lineno, number
    return found


def _is_name(identifier):
    return lambda t: isinstance(t, ast.Name) and t.id == identifier


def _is_self_attribute(attribute):
    return lambda t: (isinstance(t, ast.Attribute) and t.attr == attribute
                      and isinstance(t.value, ast.Name) and t.value.id in ("self", "cls"))


def _module_constant(filename, identifier):
    tree = _module_tree(filename) if filename else None
    found = _assigned_literal(tree.body, _is_name(identifier)) if tree is not None else None
    return (filename, found[0], found[1]) if found else None


def _class_definition(cls, attribute, instance):
    """(file, line, value) of `ATTR = <number>` in a class body, or of `self.ATTR = <number>` in
    its methods (setUp) when `instance`, searching the class and its bases."""
    for klass in getattr(cls, "__mro__", ()):
        if not instance and attribute not in vars(klass):
            continue
        module = sys.modules.get(klass.__module__)
        filename = getattr(module, "__file__", None)
        tree = _module_tree(filename) if filename else None
        for node in ast.walk(tree) if tree is not None else ():
            if not (isinstance(node, ast.ClassDef) and node.name == klass.__name__):
                continue
            if instance:
                found = _assigned_literal(ast.walk(node), _is_self_attribute(attribute))
            else:
                found = _assigned_literal(node.body, _is_name(attribute))
            if found:
                return filename, found[0], found[1]
        if not instance:
            return None  # the class that holds it assigns no literal there
    return None


def _definition_of(frame, expression):
    """(name as written, file, line, value) of a name's number-literal definition, or None."""
    code = frame.f_code
    if isinstance(expression, ast.Name):
        identifier = expression.id
        if identifier in code.co_varnames:  # a local: assigned in this function?
            tree = _function_tree(code)
            found = _assigned_literal(ast.walk(tree), _is_name(identifier)) if tree else None
            if found is None:
                return None
            return identifier, code.co_filename, found[0] + code.co_firstlineno - 1, found[1]
        found = _module_constant(frame.f_globals.get("__file__"), identifier)
        return (identifier,) + found if found else None
    if isinstance(expression, ast.Attribute) and isinstance(expression.value, ast.Name):
        owner_name, attribute = expression.value.id, expression.attr
        written = "%s.%s" % (owner_name, attribute)
        if owner_name in ("self", "cls"):
            owner = frame.f_locals.get(owner_name)
            if owner is None:
                return None
            instance = owner_name == "self" and attribute in getattr(owner, "__dict__", {})
            cls = owner if isinstance(owner, type) else type(owner)
            found = _class_definition(cls, attribute, instance)
            return (written,) + found if found else None
        owner = frame.f_globals.get(owner_name)
        if isinstance(owner, type):
            found = _class_definition(owner, attribute, False)
            return (written,) + found if found else None
        if inspect.ismodule(owner):
            found = _module_constant(getattr(owner, "__file__", None), attribute)
            return (written,) + found if found else None
    return None


def _statement(frame):
    """The innermost simple statement of the frame's function at its current line."""
    code = frame.f_code
    tree = _function_tree(code)
    line = frame.f_lineno - code.co_firstlineno + 1
    best = None
    for node in ast.walk(tree) if tree is not None else ():
        if (isinstance(node, ast.stmt) and not hasattr(node, "body")
                and node.lineno <= line <= (node.end_lineno or node.lineno)):
            if best is None or node.end_lineno - node.lineno < best.end_lineno - best.lineno:
                best = node
    return best


def _candidates(statement, keywords):
    """The expressions that may carry the tolerance: the first of `keywords` passed to a call in
    the statement, else every name in a comparison or a call's arguments (`diff < tol`,
    `assertLess(diff, tol)`)."""
    for keyword in keywords:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                for given in node.keywords:
                    if given.arg == keyword:
                        return [given.value]
    found = []
    for node in ast.walk(statement):
        operands = []
        if isinstance(node, ast.Compare):
            operands = [node.left] + node.comparators
        elif isinstance(node, ast.Call):
            operands = list(node.args)
        found += [o for o in operands if isinstance(o, (ast.Name, ast.Attribute))]
    return found


def _same(a, b):
    return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def definition(frame, value, relative, locate_site=None):
    """{"name", "at", "value"} of the number-literal definition of the tolerance `value` that the
    statement at the frame's line passes by name, or None. A helper's parameter passed on from the
    test's line (`check(a, b, atol=ATOL)` -> `allclose(..., atol=atol)`) is followed to that line
    (`locate_site()` gives its frame; called only then)."""
    if value is None:
        return None
    code = frame.f_code
    key = (code, frame.f_lineno, value)
    # (Per call: reading f_locals builds a dict, so the owner's class is asked only of a
    # statement that reads `self.` or `cls.`.)
    if _reads_an_attribute(frame):
        key += (type(frame.f_locals.get("self", frame.f_locals.get("cls"))),)
    if key not in _CACHE:
        try:
            _CACHE[key] = _find(frame, value, relative)
        except Exception:
            _CACHE[key] = None  # a source that cannot be read: no definition, never a failure
    found = _CACHE[key]
    if not (isinstance(found, tuple) and found[0] == "parameter"):
        return found
    # The helper's own parameter: what the test's line passed for it.
    site = locate_site() if locate_site is not None else None
    if site is None or site is frame:
        return None
    outer_key = (site.f_code, site.f_lineno, found[1], value)
    if outer_key not in _CACHE:
        try:
            outer = _statement(site)
            _CACHE[outer_key] = None
            for passed in _candidates(outer, (found[1],)) if outer is not None else ():
                got = _definition_of(site, passed)
                if got and _same(got[3], value):
                    _CACHE[outer_key] = _described(got, relative)
                    break
        except Exception:
            _CACHE[outer_key] = None
    return _CACHE[outer_key]


_READS_ATTRIBUTE = {}


def _reads_an_attribute(frame):
    """Whether the statement at the frame's line reads `self.X` or `cls.X` (cached)."""
    key = (frame.f_code, frame.f_lineno)
    found = _READS_ATTRIBUTE.get(key)
    if found is None:
        statement = _statement(frame)
        found = _READS_ATTRIBUTE[key] = statement is not None and any(
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls") for node in ast.walk(statement))
    return found


def _described(got, relative):
    return {"name": got[0], "at": "%s:%d" % (relative(got[1]), got[2]), "value": got[3]}


def _find(frame, value, relative):
    """The definition, None, or ("parameter", name) when the tolerance is the function's own
    parameter (resolved at the caller's line)."""
    statement = _statement(frame)
    if statement is None:
        return None
    code = frame.f_code
    parameters = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    for expression in _candidates(statement, ATOL_KEYWORDS):
        if isinstance(expression, ast.Name) and expression.id in parameters:
            given = frame.f_locals.get(expression.id)
            if isinstance(given, (int, float)) and not isinstance(given, bool) and _same(
                    float(given), value):
                return "parameter", expression.id
            continue
        got = _definition_of(frame, expression)
        if got and _same(got[3], value):
            return _described(got, relative)
    return None
