"""Notebook cells as IPython runs them (``__main__`` has no ``__file__``): a class is
found through its own methods' file name, never through a function of another module it
holds (a ``staticmethod`` of a helper, a decorator's wrapper)."""

from __future__ import annotations

import linecache
import sys
import textwrap
import types

import pytest

from harness.noise.registry import NOISES, family_source
from harness.noise.source import is_unread, source_digest


@pytest.fixture
def notebook(monkeypatch, tmp_path):
    main = types.ModuleType("__main__")  # IPython's DummyMod: no __file__
    monkeypatch.setitem(sys.modules, "__main__", main)
    names: list[str] = []
    registered: list[str] = []

    def cell(source: str, name: str) -> None:
        names.append(name)
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        before = set(NOISES.names())
        exec(compile(source, name, "exec"), main.__dict__)
        registered.extend(set(NOISES.names()) - before)

    def forget() -> None:
        for family in registered:
            if family in NOISES.names():
                NOISES.unregister(family)
        registered.clear()

    cell.forget = forget  # type: ignore[attr-defined]
    yield cell
    forget()
    for name in names:
        linecache.cache.pop(name, None)


STATIC = textwrap.dedent(
    """
    from harness.noise import Gaussian, register_noise
    from harness.noise.params import check_dim, check_positive_finite
    K = 0.5

    @register_noise("nb_gauss")
    class NbGauss(Gaussian):
        scale_param = "s"
        _pos = staticmethod(check_positive_finite)

        def __init__(self, s, dim):
            self.s = self._pos("s", s)
            self.sigma = K * self.s
            self.dim = check_dim(dim)
    """
)


def test_a_cell_edit_is_seen_when_the_class_starts_with_a_staticmethod_of_another_module(
    notebook,
):
    """The class holds a function of ``harness/noise/params.py`` before its own methods:
    the cell is digested, not that file."""
    from harness.noise import noise_class

    notebook(STATIC, "/nonexistent/ipykernel_1/a.py")
    first = source_digest(noise_class("nb_gauss"))
    notebook.forget()
    notebook(STATIC.replace("K = 0.5", "K = 1.0"), "/nonexistent/ipykernel_2/b.py")
    assert source_digest(noise_class("nb_gauss")) != first, "twice the noise, same digest"


def test_a_cell_edit_is_seen_when_the_first_method_is_decorated_elsewhere(notebook, tmp_path):
    """A wrapper from another module (``functools.wraps``, ``torch.no_grad()``) carries
    that module's ``co_filename``: the method is unwrapped to its cell first."""
    from harness.noise import noise_class

    (tmp_path / "revf_helpmod.py").write_text(
        "import functools\n"
        "def logged(f):\n"
        "    @functools.wraps(f)\n"
        "    def wrapper(*a, **k):\n"
        "        return f(*a, **k)\n"
        "    return wrapper\n"
    )
    sys.path.insert(0, str(tmp_path))
    source = textwrap.dedent(
        """
        from revf_helpmod import logged
        from harness.noise import Gaussian, register_noise
        from harness.noise.params import check_dim
        K = 0.5

        @register_noise("nb_dec")
        class NbDec(Gaussian):
            scale_param = "s"

            @logged
            def __init__(self, s, dim):
                self.s = s
                self.sigma = K * s
                self.dim = check_dim(dim)
        """
    )
    try:
        notebook(source, "/nonexistent/ipykernel_1/c.py")
        first = source_digest(noise_class("nb_dec"))
        notebook.forget()
        notebook(source.replace("K = 0.5", "K = 1.0"), "/nonexistent/ipykernel_2/c.py")
        assert source_digest(noise_class("nb_dec")) != first, "twice the noise, same digest"
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("revf_helpmod", None)


def test_a_cell_subclass_without_methods_of_its_own_is_unreadable_not_misread(notebook):
    """A subclass that only sets attributes, in a module with no file, names its cell
    nowhere (its base's methods name the base's cell): it is taken as unreadable, so that
    a new kernel is refused rather than certified on the digest of some other text."""
    from harness.noise import noise_class

    notebook(
        textwrap.dedent(
            """
            from harness.noise import Gaussian, register_noise
            from harness.noise.params import check_dim

            class NbBase(Gaussian):
                scale_param = "s"

                def __init__(self, s, dim):
                    self.s = s
                    self.sigma = 0.5 * s
                    self.dim = check_dim(dim)
            """
        ),
        "/nonexistent/ipykernel_1/c1.py",
    )
    notebook(
        '@register_noise("nb_sub")\nclass NbSub(NbBase):\n    scale_param = "s"\n',
        "/nonexistent/ipykernel_1/c2.py",
    )
    assert is_unread(source_digest(noise_class("nb_sub")))
    assert is_unread(family_source("nb_sub"))
