"""Start-up of short commands: modules that libraries import eagerly but a command never uses.

pydicom imports ``requests`` when it is imported itself, only to download its test files if asked
(``pydicom.data.download``): with its own dependencies that is ~0.1 s of the start of every process, a
sixth of a ``qrscp convert`` of a 200-slice series. :func:`defer_imports` makes such a module lazy with
the standard library's :class:`importlib.util.LazyLoader`: ``import requests`` still succeeds (so every
``HAVE_REQUESTS``-style check still says True), and the module is executed the first time one of its
attributes is used, with the same result as an eager import.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType

#: What ``qrscp convert`` defers: pydicom's downloader of test data.
UNUSED_BY_CONVERT = ("requests",)


class _DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds the deferred top-level modules through the other finders and wraps their loaders."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def defer_imports(names: Iterable[str]) -> None:
    """Import the top-level modules `names` lazily from now on (those not imported yet).

    Parameters
    ----------
    names : iterable of str
        Top-level module names, e.g. ``("requests",)``. A module that is not installed still raises
        ``ImportError`` where it is imported.
    """
    pending = [name for name in names if name not in sys.modules]
    if pending and not any(isinstance(finder, _DeferringFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _DeferringFinder(pending))
