"""Who may associate: calling AE titles, peer addresses, the called AE title, concurrent associations.

Checked when an A-ASSOCIATE-RQ arrives (EVT_REQUESTED); a refused request gets an A-ASSOCIATE-RJ with
the result, source and reason of PS3.8 Table 9-21:

==============================  =========  ====================================  =====================
check                           result     source                                reason
==============================  =========  ====================================  =====================
called AE title differs         permanent  service-user (1)                      called AE title not recognised (7)
calling AE title not allowed    permanent  service-user (1)                      calling AE title not recognised (3)
address not allowed             permanent  service-user (1)                      no reason given (1)
too many associations           transient  service-provider, presentation (3)    local limit exceeded (2)
==============================  =========  ====================================  =====================
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

from qrscp.config import Config
from qrscp.net.limits import count_associations

logger = logging.getLogger("qrscp.net")

REJECTED_PERMANENT = 0x01
REJECTED_TRANSIENT = 0x02
SOURCE_SERVICE_USER = 0x01
SOURCE_SERVICE_PROVIDER_PRESENTATION = 0x03
REASON_NO_REASON_GIVEN = 0x01
REASON_CALLING_AE_TITLE_NOT_RECOGNISED = 0x03
REASON_CALLED_AE_TITLE_NOT_RECOGNISED = 0x07
REASON_LOCAL_LIMIT_EXCEEDED = 0x02


@dataclass(frozen=True)
class Rejection:
    """An A-ASSOCIATE-RJ to send: result, source, reason (diagnostic) and why, for the log."""

    result: int
    source: int
    reason: int
    why: str


@dataclass(frozen=True)
class AccessPolicy:
    """The association acceptance rules of ``[server]`` and ``[access]``."""

    ae_title: str
    require_called_ae_title: bool = True
    allowed_calling_ae_titles: frozenset[str] = frozenset()
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    max_associations: int = 10

    @classmethod
    def from_config(cls, config: Config) -> AccessPolicy:
        """Build the policy from a configuration (empty allow-lists allow everyone)."""
        networks = tuple(ipaddress.ip_network(text.strip(), strict=False) for text in config.access.allowed_addresses)
        return cls(
            ae_title=config.server.ae_title.strip(),
            require_called_ae_title=config.server.require_called_ae_title,
            allowed_calling_ae_titles=frozenset(t.strip() for t in config.access.allowed_calling_ae_titles),
            allowed_networks=networks,
            max_associations=config.server.max_associations,
        )

    def check(self, *, calling_ae_title: str, called_ae_title: str, address: str, active: int) -> Rejection | None:
        """Return the rejection for an association request, or None to accept it.

        Parameters
        ----------
        calling_ae_title, called_ae_title : str
            From the A-ASSOCIATE-RQ.
        address : str
            The peer's IP address.
        active : int
            Associations we accept at the moment, this one included.
        """
        if self.require_called_ae_title and called_ae_title.strip() != self.ae_title:
            return Rejection(
                REJECTED_PERMANENT,
                SOURCE_SERVICE_USER,
                REASON_CALLED_AE_TITLE_NOT_RECOGNISED,
                f"called AE title {called_ae_title.strip()!r} is not {self.ae_title!r}",
            )
        if self.allowed_calling_ae_titles and calling_ae_title.strip() not in self.allowed_calling_ae_titles:
            return Rejection(
                REJECTED_PERMANENT,
                SOURCE_SERVICE_USER,
                REASON_CALLING_AE_TITLE_NOT_RECOGNISED,
                f"calling AE title {calling_ae_title.strip()!r} is not allowed",
            )
        if self.allowed_networks and not self._address_allowed(address):
            return Rejection(
                REJECTED_PERMANENT, SOURCE_SERVICE_USER, REASON_NO_REASON_GIVEN, f"address {address} is not allowed"
            )
        if self.max_associations > 0 and active > self.max_associations:
            return Rejection(
                REJECTED_TRANSIENT,
                SOURCE_SERVICE_PROVIDER_PRESENTATION,
                REASON_LOCAL_LIMIT_EXCEEDED,
                f"{self.max_associations} associations already active",
            )
        return None

    def _address_allowed(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.allowed_networks)


def _check(assoc: Any, policy: AccessPolicy, shared: Any) -> Rejection | None:
    request = assoc.requestor.primitive

    def check(active: int) -> Rejection | None:
        return policy.check(
            calling_ae_title=str(request.calling_ae_title or ""),
            called_ae_title=str(request.called_ae_title or ""),
            address=str(assoc.requestor.address or ""),
            active=active,
        )

    # Associations only: connections still waiting to send their request are bounded separately.
    if shared is None:
        return check(count_associations(assoc))
    # Worker processes (qrscp.net.shared_limits): the limit counts every worker's associations.
    with shared.locked():
        local = count_associations(assoc)
        rejection = check(local + shared.others())
        shared.set(shared.slot, local if rejection is None else local - 1)
    return rejection


def handle_requested(event: Any, policy: AccessPolicy, shared: Any = None) -> None:
    """EVT_REQUESTED handler: reject the association request when `policy` says so.

    `shared` is the :class:`qrscp.net.shared_limits.SharedAssociationCount` of worker processes (None in
    a single process).
    """
    assoc = event.assoc
    if assoc.is_rejected:  # an earlier EVT_REQUESTED handler (peer bindings) already answered
        return
    request = assoc.requestor.primitive
    rejection = _check(assoc, policy, shared)
    if rejection is None:
        return
    logger.warning(
        "%s@%s:%s: association rejected (result %d, source %d, reason %d): %s",
        str(request.calling_ae_title or "").strip() or "?",
        assoc.requestor.address,
        assoc.requestor.port,
        rejection.result,
        rejection.source,
        rejection.reason,
        rejection.why,
    )
    assoc.acse.send_reject(rejection.result, rejection.source, rejection.reason)
    assoc.kill()
