"""What one part of the archive sees of another: typed protocols at the seams.

The composition root (:mod:`qrscp.app`) passes the concrete parts; each consumer types its parameter with
the protocol of what it uses, so the dependency points one way and the seam says what crosses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from pydicom.dataset import Dataset
from sqlalchemy.orm import Session

from qrscp.uids import View


class ViewEnsurer(Protocol):
    """Builds the CLASSIC/ENHANCED view of what a request selects before it is answered (query, retrieve)."""

    def ensure(
        self, session: Session | None = None, identifier: Dataset | None = None, view: View = View.DEFAULT
    ) -> None: ...


class ViewBuilderLike(ViewEnsurer, Protocol):
    """The view builder as the composition root runs it: ensure, and a background thread (eager policy)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class InstanceLocator(Protocol):
    """Resolves a retrieve identifier to stored instances (the query service, seen by retrieve)."""

    def locate(
        self, identifier: Dataset, *, information_model: str, relational: bool = False, view: View = View.DEFAULT
    ) -> list[Any]: ...


class StoredPaths(Protocol):
    """Resolves a stored file's relative path (the file store, seen by retrieve)."""

    def absolute(self, relative_path: str) -> Path: ...
