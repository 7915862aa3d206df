"""Deterministic UIDs for converted and rewritten instances (PS3.4 C.3.5 note 1, ZZZA.6).

A new UID is ``2.25.<int>`` of a UUIDv5 (PS3.5 B.2) whose namespace is derived from a per-installation
secret and whose name encodes the view, the kind of object and the *sorted* source UIDs. The same sources
therefore give the same UID in any process, in any input order, forever; nothing is appended to someone
else's UID.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

#: Namespace under which the per-installation namespace is derived from the secret.
_QRSCP_NAMESPACE = uuid.UUID("8f3c2a1e-5b7d-4f0e-9c61-2d4e7a9b0c53")


class UIDSource:
    """Derive new UIDs from a secret and the UIDs of the sources.

    Parameters
    ----------
    secret : str
        Per-installation secret (``[views] uid_secret``); changing it changes every derived UID.
    """

    def __init__(self, secret: str) -> None:
        self._namespace = uuid.uuid5(_QRSCP_NAMESPACE, secret)

    def derive(self, view: str, kind: str, source_uids: Iterable[str]) -> str:
        """Return the UID for (`view`, `kind`, set of `source_uids`).

        Parameters
        ----------
        view : str
            "CLASSIC", "ENHANCED" or any other label that separates name spaces.
        kind : str
            What the UID identifies, e.g. ``"instance"``, ``"series"``, ``"overlay-gsps"``.
        source_uids : iterable of str
            UIDs (or UID:frame labels) the new object is made from; order does not matter.
        """
        view_name = getattr(view, "value", view)
        name = f"{view_name}|{kind}|" + "\\".join(sorted(set(source_uids)))
        return f"2.25.{uuid.uuid5(self._namespace, name).int}"
