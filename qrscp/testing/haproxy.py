"""HAProxy in front of qrscp nodes: its configuration, and a private instance for tests on loopback.

HAProxy balances DICOM associations in TCP mode (one TCP connection is one association). Its health check
speaks DICOM: an A-ASSOCIATE-RQ proposing Verification, expecting an A-ASSOCIATE-AC (PDU type 02), then an
A-RELEASE-RQ, expecting an A-RELEASE-RP (06). A node that stops answering associations (killed, stopping,
its database gone) is taken out after two failed checks; ``option redispatch`` with ``retries`` sends a
new connection elsewhere when the chosen node refuses it. ``docker-compose.yml`` (profile ``nodes``) uses
the same configuration, written by :func:`haproxy_config` to ``config/haproxy.cfg`` (``python -m
qrscp.testing.haproxy > config/haproxy.cfg`` rewrites it; a test checks they agree).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pynetdicom.pdu import A_ASSOCIATE_RQ
from pynetdicom.pdu_primitives import A_ASSOCIATE, ImplementationClassUIDNotification, MaximumLengthNotification
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import Verification

from qrscp import IMPLEMENTATION_CLASS_UID

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
#: A-RELEASE-RQ and the start of A-RELEASE-RP (PS3.8 9.3.6, 9.3.7).
RELEASE_RQ_HEX = "05000000000400000000"
RELEASE_RP_HEX = "0600"
ASSOCIATE_AC_HEX = "0200"


def association_request_hex(called_ae_title: str, calling_ae_title: str = "HAPROXY") -> str:
    """Hex of an A-ASSOCIATE-RQ proposing Verification (Implicit VR Little Endian) to `called_ae_title`."""
    primitive = A_ASSOCIATE()
    primitive.application_context_name = APPLICATION_CONTEXT
    primitive.calling_ae_title = calling_ae_title
    primitive.called_ae_title = called_ae_title
    context = build_context(Verification, ["1.2.840.10008.1.2"])
    context.context_id = 1
    primitive.presentation_context_definition_list = [context]
    max_length = MaximumLengthNotification()
    max_length.maximum_length_received = 16384
    implementation = ImplementationClassUIDNotification()
    implementation.implementation_class_uid = IMPLEMENTATION_CLASS_UID
    primitive.user_information = [max_length, implementation]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(primitive)
    return pdu.encode().hex()


@dataclass(frozen=True)
class Backend:
    name: str
    host: str
    port: int


def haproxy_config(
    bind: str, backends: list[Backend], ae_title: str = "QRSCP", *, check_interval: str = "1s",
    timeout: str = "10m",
) -> str:
    """An HAProxy configuration: TCP mode, least connections, the DICOM health check of the module docstring.

    Parameters
    ----------
    bind : str
        ``address:port`` of the one DICOM port the modalities use.
    backends : list of Backend
        The qrscp nodes.
    ae_title : str
        Called AE title of the health check (the nodes' AE title).
    check_interval : str
        HAProxy time between checks.
    timeout : str
        Client and server inactivity timeout (longer than the nodes' DIMSE timeout).
    """
    servers = "\n".join(f"    server {b.name} {b.host}:{b.port} check" for b in backends)
    return f"""# HAProxy in front of qrscp nodes (written by qrscp.testing.haproxy.haproxy_config).
global
    maxconn 1024

defaults
    mode tcp
    timeout connect 5s
    timeout client {timeout}
    timeout server {timeout}
    retries 3
    option redispatch

frontend dicom
    bind {bind}
    default_backend qrscp

backend qrscp
    balance leastconn
    option tcp-check
    tcp-check connect
    tcp-check send-binary {association_request_hex(ae_title)}
    tcp-check expect binary {ASSOCIATE_AC_HEX}
    tcp-check send-binary {RELEASE_RQ_HEX}
    tcp-check expect binary {RELEASE_RP_HEX}
    default-server inter {check_interval} fall 2 rise 1 on-marked-down shutdown-sessions init-addr last,libc,none
{servers}
"""


class HAProxy:
    """A private HAProxy process (foreground, own configuration in a temporary directory)."""

    def __init__(self, config_text: str) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="qrscp-haproxy-"))
        self.config_path = self.directory / "haproxy.cfg"
        self.config_path.write_text(config_text, encoding="utf-8")
        self.log_path = self.directory / "haproxy.log"
        self.process: subprocess.Popen | None = None

    def check(self) -> None:
        """Raise CalledProcessError when HAProxy refuses the configuration."""
        subprocess.run([HAPROXY, "-c", "-f", str(self.config_path)], check=True, capture_output=True, text=True)

    def start(self) -> None:
        self.check()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([HAPROXY, "-db", "-f", str(self.config_path)], stdout=log, stderr=log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


#: The docker-compose profile ``nodes``: two replicas behind HAProxy, checked every 5 s.
COMPOSE_BACKENDS = [Backend("node1", "qrscp-node1", 11112), Backend("node2", "qrscp-node2", 11112)]


def compose_config() -> str:
    """``config/haproxy.cfg`` of docker-compose.yml (profile ``nodes``)."""
    return haproxy_config("*:11112", COMPOSE_BACKENDS, "QRSCP", check_interval="5s")


if __name__ == "__main__":
    print(compose_config(), end="")
