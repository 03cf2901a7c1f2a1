"""Tests that check an object was freed after a passing assert on it (pyro's test_weakmethod)."""
import weakref


class Foo:
    pass


def test_is_then_freed():
    foo = Foo()
    ref = weakref.ref(foo)
    assert ref() is foo
    del foo
    assert ref() is None


def test_is_not_then_freed():
    foo = Foo()
    ref = weakref.ref(foo)
    alive = ref()
    assert alive is not None
    del foo, alive
    assert ref() is None


def test_compared_then_freed():
    foo = Foo()
    ref = weakref.ref(foo)
    assert 0.5 < len([foo]) < 2.5
    del foo
    assert ref() is None
