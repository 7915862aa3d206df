"""The view builder: the request hook, one generation at a time under a lock, and its publication.

:meth:`ViewBuilder.ensure` is called by the query service before a request in a view is answered; it
builds the view of every affected patient that has instances the view has not yet covered, then checks
that the request's unique keys are consistent with the view. Planning and conversion are in
:mod:`~qrscp.services.views.generation`, lost files in :mod:`~qrscp.services.views.repair`, the eager
policy in :mod:`~qrscp.services.views.eager`, the records in :mod:`qrscp.index.view_records`.

Concurrency: a per-(patient, view) lock in the process, and the ``view_build`` row (unique per patient,
view and generation) across processes: two associations asking at once convert once and get identical
answers.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable

from pydicom.dataset import Dataset
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from qrscp.config import Config
from qrscp.convert import UIDSource
from qrscp.index import view_records
from qrscp.index.models import Instance, ViewBuild
from qrscp.index.view_records import BUILT, GeneratedInstance
from qrscp.index.view_scope import newcomers, patients_with_newcomers, patients_with_view, scope_rows
from qrscp.services.storage import StorageService
from qrscp.services.views.eager import EagerBuilder
from qrscp.services.views.generation import (
    VIEW_SOURCE_AE_TITLE,
    Generation,
    GenerationMaker,
    Output,
    earlier_generations,
)
from qrscp.services.views.plan import CONVERTED, REWRITTEN, UNCHANGED
from qrscp.services.views.repair import FileRepair
from qrscp.services.views.scope import check_consistency, scope_of
from qrscp.store.filestore import FileStore
from qrscp.uids import View

LOGGER = logging.getLogger(__name__)

#: A "building" generation older than this (seconds) was left by a crashed process and is taken over.
ABANDONED_BUILD_SECONDS = 300.0
#: Poll interval while another process builds the same generation (cross-process wait only).
OTHER_PROCESS_POLL_SECONDS = 0.2


class ViewBuilder:
    """Build, persist and restore the CLASSIC and ENHANCED views of patients.

    Parameters
    ----------
    config : qrscp.config.Config
        ``[views]``: ``enabled``, ``build_policy``, ``quiet_seconds``, ``uid_secret``.
    sessions : sqlalchemy.orm.sessionmaker
        Sessions of the index.
    file_store : qrscp.store.filestore.FileStore
        Where stored instances are read and lost generated files are rewritten.
    storage_service : qrscp.services.storage.StorageService
        Persists generated instances (``store_dataset``).
    """

    def __init__(
        self, config: Config, sessions: sessionmaker[Session], file_store: FileStore, storage_service: StorageService
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.file_store = file_store
        self.storage_service = storage_service
        self.uids = UIDSource(config.views.uid_secret)
        self.maker = GenerationMaker(self.uids, file_store)
        self._guard = threading.Lock()
        self._locks: dict[tuple[int, View], threading.Lock] = {}
        self.repair = FileRepair(sessions, file_store, self.maker, self._lock)
        self.eager = EagerBuilder(config, sessions, self.build_patient)
        self._poll = threading.Event()  # never set: the pace of cross-process polling
        #: Number of generations built by this process (tests read it: "converted once").
        self.generations_built = 0
        #: Called as ``listener(patient_fk, view, generation)`` after a generation is published.
        self.listeners: list[Callable[[int, View, int], None]] = []

    # ------------------------------------------------------------------ request hook

    def ensure(self, session: Session | None = None, identifier: Dataset | None = None, view: View = View.DEFAULT) -> None:
        """Make the view of every patient the request touches complete, then check the request against it.

        Parameters
        ----------
        session : sqlalchemy.orm.Session, optional
            Unused (the builder commits in its own sessions); accepted for the query service's hook.
            Call this before the session has read anything, or its snapshot predates the build.
        identifier : pydicom.dataset.Dataset, optional
            The request identifier; its unique keys choose the patients (all patients when none is
            given as single value or list).
        view : View
            DEFAULT does nothing.

        Raises
        ------
        ViewError
            A SOP Instance UID or Series Instance UID of the request names an instance or series that
            exists but is not in `view` (C.4.2.2.2.2 note 3).
        """
        view = View(view)
        if view is View.DEFAULT:
            return
        kind, values = scope_of(identifier)
        if kind is None:
            with self.sessions() as reader:
                stale = patients_with_newcomers(reader, view, None)
                known = set(patients_with_view(reader, view))
        else:
            # One statement on a pooled connection (no ORM session): the patients named by the request
            # and whether they have instances the view has not handled yet.
            with self.sessions.kw["bind"].connect() as connection:
                rows = scope_rows(connection, kind, view, values)
            stale = {patient_fk for patient_fk, has_newcomers in rows if has_newcomers}
            known = {patient_fk for patient_fk, _ in rows}
        for patient_fk in sorted(stale | self.repair.unverified(known, view)):
            self.build_patient(patient_fk, view)
        check_consistency(self.sessions, identifier, view)

    # ------------------------------------------------------------------ building

    def _lock(self, patient_fk: int, view: View) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((patient_fk, view), threading.Lock())

    def build_patient(self, patient_fk: int, view: View) -> int:
        """Build the missing generation of a patient's view (if any) and restore lost files.

        Returns
        -------
        int
            Number of new instances made visible in the view.
        """
        view = View(view)
        with self._lock(patient_fk, view):
            self._hide_replaced_again(patient_fk, view)
            made = 0
            while True:
                with self.sessions() as session:
                    pending = newcomers(session, patient_fk, view)
                    latest = view_records.latest_generation(session, patient_fk, view)
                if latest is not None and latest.state != BUILT:
                    # Another builder (another process) is writing a generation: its newcomers are ours.
                    self._wait_for(latest)
                    continue
                if not pending:
                    break
                generation = (latest.generation if latest is not None else 0) + 1
                if self._claim(patient_fk, view, generation):
                    made += self._build_generation(patient_fk, view, generation, pending)
            self.repair.verify(patient_fk, view)
            return made

    def _hide_replaced_again(self, patient_fk: int, view: View) -> None:
        """Hide originals that a view replaced but that became visible again (re-sent, policy "replace")."""
        with self.sessions() as session:
            hidden = view_records.hide_replaced_again(session, patient_fk, view)
            if not hidden:
                return
            session.commit()
        LOGGER.warning("view %s of patient %d: %d re-sent original(s) hidden again (served objects unchanged)",
                       view.value, patient_fk, hidden)

    def _claim(self, patient_fk: int, view: View, generation: int) -> bool:
        """Insert the "building" row of a generation; False when another builder inserted it first."""
        now = view_records.utc_now()
        try:
            with self.sessions() as session:
                view_records.add_generation(session, patient_fk, view, generation, now)
                session.commit()
                return True
        except IntegrityError:
            return False

    def _wait_for(self, building: ViewBuild) -> None:
        """Wait until another builder publishes (or abandons) a generation; take over an abandoned one."""
        while True:
            with self.sessions() as session:
                row = view_records.generation_row(session, building.id)
                if row is None or row.state == BUILT:
                    return
                now = view_records.utc_now()
                age = (now - (row.started or now)).total_seconds()
                if age > ABANDONED_BUILD_SECONDS:
                    LOGGER.warning("view %s of patient %d: taking over generation %d abandoned %.0f s ago",
                                   row.view, row.patient_fk, row.generation, age)
                    view_records.abandon_generation(session, row.id)
                    session.commit()
                    return
            # Cross-process wait only (in-process builders serialise on the lock): poll the shared index.
            self._poll.wait(OTHER_PROCESS_POLL_SECONDS)

    def _build_generation(self, patient_fk: int, view: View, generation: int, originals: list[Instance]) -> int:
        LOGGER.info("view %s of patient %d: building generation %d from %d instance(s)",
                    view.value, patient_fk, generation, len(originals))
        try:
            with self.sessions() as session:
                mapping, mapped_before, earlier_enhanced = earlier_generations(session, patient_fk, view, generation)
            result = self.maker.make(view, originals, mapping, mapped_before, earlier_enhanced)
            self._store_outputs(result.outputs)
            self._publish(patient_fk, view, generation, originals, result)
        except BaseException:
            with self.sessions() as session:
                view_records.discard_generation(session, patient_fk, view, generation)
                session.commit()
            raise
        self.generations_built += 1
        for listener in list(self.listeners):
            listener(patient_fk, view, generation)
        return len(result.outputs)

    def _store_outputs(self, outputs: list[Output]) -> None:
        """Store every output with no view flag (invisible until published)."""
        for output in outputs:
            outcome = self.storage_service.store_dataset(
                output.dataset,
                views=frozenset(),
                transfer_syntax_uid=output.transfer_syntax_uid,
                source_ae_title=VIEW_SOURCE_AE_TITLE,
                duplicate_policy="keep-first",  # a build interrupted earlier left the same bytes
            )
            if not outcome.ok:
                raise RuntimeError(
                    f"cannot store generated instance {output.sop_instance_uid}: "
                    f"0x{outcome.status:04X} {outcome.error_comment}"
                )

    def _publish(self, patient_fk: int, view: View, generation: int, originals: list[Instance], result: Generation) -> None:
        """Make one generation visible atomically, with its records."""
        fates = {row.sop_instance_uid: result.fates.get(row.sop_instance_uid, UNCHANGED) for row in originals}
        with self.sessions() as session:
            view_records.publish_generation(
                session,
                patient_fk,
                view,
                generation,
                generated=[_generated_instance(output) for output in result.outputs],
                fates=fates,
                now=view_records.utc_now(),
            )
            session.commit()
        counts: dict[str, int] = defaultdict(int)
        for fate in result.fates.values():
            counts[fate] += 1
        LOGGER.info(
            "view %s of patient %d: generation %d built: %d new instance(s); originals converted %d, "
            "rewritten %d, unchanged %d",
            view.value, patient_fk, generation, len(result.outputs), counts[CONVERTED], counts[REWRITTEN],
            counts[UNCHANGED],
        )

    # ------------------------------------------------------------------ lost files and the eager policy

    def restore(self, sop_instance_uid: str) -> bool:
        """Regenerate the file of one generated instance if it is missing; True when it was rewritten."""
        return self.repair.restore(sop_instance_uid)

    def start(self) -> None:
        """Start the background builder when ``[views] build_policy = "eager"`` (no-op otherwise)."""
        self.eager.start()

    def stop(self) -> None:
        """Stop the background builder (a build in progress finishes first)."""
        self.eager.stop()

    def quiet_patients(self) -> set[int]:
        """Patients with instances not yet in a view whose studies received nothing for ``quiet_seconds``."""
        return self.eager.quiet_patients()


def _generated_instance(output: Output) -> GeneratedInstance:
    ds = output.dataset
    return GeneratedInstance(
        sop_instance_uid=output.sop_instance_uid,
        sop_class_uid=str(ds.SOPClassUID),
        series_instance_uid=str(ds.SeriesInstanceUID),
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        kind=output.kind,
        engine_kind=output.engine_kind,
        sources=output.sources,
    )
