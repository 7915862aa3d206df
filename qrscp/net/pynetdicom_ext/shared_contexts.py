"""The supported presentation contexts of a server, shared by every association instead of copied."""

from __future__ import annotations

from typing import Any


class SharedContexts(list):
    """The supported presentation contexts, shared by every association instead of copied.

    pynetdicom deep-copies the server's contexts for each new association: with 180 SOP classes and 13
    transfer syntaxes that costs ~80 ms per association (seen with py-spy). Negotiation only reads them,
    so every association may share one list.
    """

    def __deepcopy__(self, memo: dict) -> list:
        return list(self)


def share_contexts(server: Any) -> None:
    """Make the associations of `server` (a pynetdicom ``AssociationServer``) share its contexts."""
    server.contexts = SharedContexts(server.contexts)
