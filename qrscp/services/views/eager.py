"""The eager build policy: a background thread builds the views of patients whose studies are quiet.

``[views] build_policy = "eager"``: a patient is built once no study of it received anything for
``quiet_seconds``, so a request usually finds its view already built.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from qrscp.config import Config
from qrscp.index.view_scope import patients_receiving, patients_with_newcomers
from qrscp.uids import View

LOGGER = logging.getLogger(__name__)


class EagerBuilder:
    """The background builder of the eager policy.

    Parameters
    ----------
    config : qrscp.config.Config
        ``[views]``: ``enabled``, ``build_policy``, ``quiet_seconds``.
    sessions : sqlalchemy.orm.sessionmaker
        Sessions of the index.
    build_patient : callable
        ``build_patient(patient_fk, view)``: builds the missing generation of a patient's view.
    """

    def __init__(self, config: Config, sessions: sessionmaker[Session], build_patient: Callable[[int, View], Any]) -> None:
        self.config = config
        self.sessions = sessions
        self.build_patient = build_patient
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background builder when ``[views] build_policy = "eager"`` (no-op otherwise)."""
        if not self.config.views.enabled or self.config.views.build_policy != "eager" or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="qrscp-view-builder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background builder (a build in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def quiet_patients(self) -> set[int]:
        """Patients with instances not yet in a view whose studies received nothing for ``quiet_seconds``."""
        quiet_since = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(
            seconds=self.config.views.quiet_seconds
        )
        patients: set[int] = set()
        with self.sessions() as session:
            for view in (View.ENHANCED, View.CLASSIC):
                patients |= patients_with_newcomers(session, view, None)
            if not patients:
                return set()
            busy = patients_receiving(session, patients, quiet_since)
        return patients - busy

    def _loop(self) -> None:
        interval = max(0.5, min(5.0, self.config.views.quiet_seconds / 2))
        while not self._stop.wait(interval):
            try:
                for patient_fk in sorted(self.quiet_patients()):
                    for view in (View.ENHANCED, View.CLASSIC):
                        if self._stop.is_set():
                            return
                        self.build_patient(patient_fk, view)
            except Exception:  # noqa: BLE001 - the background builder must survive a bad patient
                LOGGER.exception("eager view build failed; retried at the next round")
