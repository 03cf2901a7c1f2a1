"""Passing asserts without their explanation, for the capture of plain comparisons.

The capture turns pytest's assertion-pass hook on so that a passing `assert d < tol` hands its
two values to the comparison hook. With the pass hook on, pytest formats every passing assert's
explanation as if it had failed: the repr of every sub-expression (an array's repr costs
~100 us), a diff for `==` of sequences, the whole message; in a loop of 4000 asserts that was
0.5 ms per assert, 2 s per run (0.07 s without the capture).

When the capture's hook is the only pass hook there is, nobody reads that explanation. Then,
between the point where a rewritten assert has passed (`_check_if_assertion_pass_impl`) and its
pass-hook call, pytest's formatting helpers return empty strings and the comparison goes straight
to the capture, not through every plugin's pytest_assertrepr_compare. Failing asserts never pass
through that window: their messages are formatted exactly as before. Another plugin implementing
pytest_assertion_pass gets pytest's full formatting, as without flakescope.
"""

import sys
import threading

_window = threading.local()  # .open: True between an assert's pass check and its pass-hook call


def install(config, own_hooks, record_comparison):
    """Wraps pytest's rewrite helpers; returns what undoes it (None when pytest has no such
    helpers: the pass path is then pytest's own). `own_hooks` is the capture's plugin object,
    `record_comparison(op, left, right)` its capture of one comparison."""
    try:
        from _pytest.assertion import rewrite
    except Exception:
        return None
    names = ("_check_if_assertion_pass_impl", "_saferepr", "_format_explanation",
             "_call_reprcompare", "_call_assertion_pass")
    originals = {name: getattr(rewrite, name, None) for name in names}
    if any(value is None for value in originals.values()):
        return None  # another pytest: leave its helpers alone
    only_ours = []  # decided at the first passing assert, once every plugin has registered

    def _check_if_assertion_pass_impl():
        if not originals["_check_if_assertion_pass_impl"]():
            return False
        if not only_ours:
            implementations = config.pluginmanager.hook.pytest_assertion_pass.get_hookimpls()
            only_ours.append(all(impl.plugin is own_hooks for impl in implementations))
        _window.open = only_ours[0]
        return True

    def _saferepr(obj):
        return "" if getattr(_window, "open", False) else originals["_saferepr"](obj)

    def _format_explanation(explanation):
        if getattr(_window, "open", False):
            return ""
        return originals["_format_explanation"](explanation)

    def _call_reprcompare(ops, results, expls, each_obj):
        # (Named as pytest's helper: the capture finds the test's frame right above it.)
        if not getattr(_window, "open", False):
            return originals["_call_reprcompare"](ops, results, expls, each_obj)
        i = _deciding_comparison(results)
        # A passing assert: every comparison of a chain held (`-1 <= x <= 0`), and each is a
        # bound of its own; pytest's own formatting would hand over only the last one.
        for j in range(len(ops)) if i == len(ops) - 1 else (i,):
            try:
                record_comparison(ops[j], each_obj[j], each_obj[j + 1])
            except Exception:
                pass  # never change the test's outcome
        return expls[i]

    def _call_assertion_pass(lineno, orig, expl):
        try:
            if getattr(_window, "open", False):
                _window.open = False
                return None  # the only pass hook is the capture's, which needs nothing here
            return originals["_call_assertion_pass"](lineno, orig, expl)
        finally:
            _drop_locals_snapshot(sys._getframe(1))

    replacements = {"_check_if_assertion_pass_impl": _check_if_assertion_pass_impl,
                    "_saferepr": _saferepr, "_format_explanation": _format_explanation,
                    "_call_reprcompare": _call_reprcompare,
                    "_call_assertion_pass": _call_assertion_pass}
    for name, replacement in replacements.items():
        setattr(rewrite, name, replacement)

    def uninstall():
        for name, original in originals.items():
            if getattr(rewrite, name, None) is replacements[name]:
                setattr(rewrite, name, original)
        close()

    return uninstall


def _drop_locals_snapshot(frame):
    """Lets go of what the pass branch's `'x' in locals()` kept alive. A rewritten assert formats
    a passing comparison with that test, and before Python 3.13 locals() fills a dict cached on
    the frame: it held every local (`foo` after `del foo`) until the next locals() call, so a test
    checking that an object was freed (`assert ref() is None`) failed under the pass hook. The
    dict is a copy of a function's locals there; emptying it changes no variable."""
    if sys.version_info >= (3, 13) or frame is None or not frame.f_code.co_flags & _CO_OPTIMIZED:
        return  # 3.13: locals() is a fresh snapshot; module and class bodies: the real namespace
    try:
        frame.f_locals.clear()
    except Exception:
        pass


_CO_OPTIMIZED = 0x0001  # inspect.CO_OPTIMIZED: a function's frame, whose locals are fast slots


def close():
    """Ends a window an exception left open (called before each test)."""
    _window.open = False


def _deciding_comparison(results):
    """The comparison pytest explains in a chain (`a < b < c`): the first false one, else the
    last (rewrite._call_reprcompare's rule)."""
    i = 0
    for i, result in enumerate(results):
        try:
            done = not result
        except Exception:
            done = True
        if done:
            break
    return i
