"""Start-up of processes: modules that libraries import eagerly but a command never uses and BLAS threads
that it never needs (``qrscp convert``), and the objects made at start-up exempted from garbage
collection (``qrscp serve``).

pydicom imports ``requests`` when it is imported itself, only to download its test files if asked
(``pydicom.data.download``): with its own dependencies that is ~0.1 s of the start of every process, a
sixth of a ``qrscp convert`` of a 200-slice series. :func:`defer_imports` makes such a module lazy with
the standard library's :class:`importlib.util.LazyLoader`: ``import requests`` still succeeds (so every
``HAVE_REQUESTS``-style check still says True), and the module is executed the first time one of its
attributes is used, with the same result as an eager import.
"""

from __future__ import annotations

import gc
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType

#: What ``qrscp convert`` defers: what pydicom's downloader of test data imports (``requests``, and
#: ``urllib.request`` with the HTTP, e-mail and SSL modules it pulls in), and Pillow's colour management,
#: which pydicom imports for ICC profiles (``PIL.ImageCms``).
UNUSED_BY_CONVERT = ("requests", "urllib.request", "PIL.ImageCms")


class _DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds the deferred modules through the other finders and wraps their loaders."""

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
    """Import the modules `names` lazily from now on (those not imported yet).

    Parameters
    ----------
    names : iterable of str
        Full module names, e.g. ``("requests", "urllib.request")``. A module that is not installed still
        raises ``ImportError`` where it is imported; one whose own imports fail (e.g. Pillow built without
        its colour management library) raises it on first use instead, so defer only what the command
        does not use.
    """
    pending = [name for name in names if name not in sys.modules]
    if pending and not any(isinstance(finder, _DeferringFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _DeferringFinder(pending))


def freeze_imported_objects() -> None:
    """Exempt every object made so far (imported modules, start-up state) from cyclic garbage collection.

    A server keeps what its start-up made until it stops; without this, each full collection rescans the
    ~10^5 objects of pynetdicom, pydicom, SQLAlchemy and numpy. Objects made later are still collected
    (:func:`gc.freeze`); the thresholds are unchanged. (``qrscp convert`` turns the collector off while it
    runs instead: it keeps every header it reads to the end.)
    """
    gc.freeze()


#: Environment variables that size the BLAS thread pools numpy's wheels start when numpy is imported.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_blas() -> None:
    """Ask numpy's BLAS for one thread, unless the environment already says otherwise; call it before numpy
    is imported.

    OpenBLAS starts a thread per core when numpy is imported: ~0.13 s of CPU in every ``qrscp convert``
    (a quarter of a 200-slice run), for linear algebra that conversion never does.
    """
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
