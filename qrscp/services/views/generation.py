"""Make one generation of a view: read its originals, plan it, convert and rewrite (nothing is written).

The generation is a function of its originals' files, the mapping of the earlier generations and the
per-installation UID secret: :meth:`GenerationMaker.make` gives the same outputs, byte for byte, when it
is replayed to regenerate a lost file (:mod:`qrscp.services.views.repair`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRLittleEndian
from sqlalchemy.orm import Session

from qrscp import convert
from qrscp.convert import ReferenceMapping, ReferenceTarget, UIDSource, read_source
from qrscp.index import view_records
from qrscp.index.models import ConversionRecord, Instance
from qrscp.services.views.plan import CONVERTED, REWRITTEN, UNCHANGED, ViewPlan, enhanced_frame_sources, plan_view
from qrscp.store.filestore import FileStore
from qrscp.uids import ENHANCED_TO_CLASSIC, View

LOGGER = logging.getLogger(__name__)

#: Source Application Entity Title in the File Meta of generated instances (fixed: part of their bytes).
VIEW_SOURCE_AE_TITLE = "QRSCP"


@dataclass
class Output:
    """A new instance of a view generation and where it came from."""

    dataset: Dataset
    kind: str  # CONVERTED or REWRITTEN
    engine_kind: str
    sources: list[tuple[str, str, int | None, int | None]]  # (uid, sop class, source frame, new frame)
    transfer_syntax_uid: str = ExplicitVRLittleEndian

    @property
    def sop_instance_uid(self) -> str:
        return str(self.dataset.SOPInstanceUID)


@dataclass
class Generation:
    """What one generation makes of its originals."""

    plan: ViewPlan
    outputs: list[Output] = field(default_factory=list)
    fates: dict[str, str] = field(default_factory=dict)


def mapping_of_records(records: Iterable[ConversionRecord]) -> ReferenceMapping:
    """The reference mapping of earlier generations: every source (and frame) -> the instance made of it."""
    mapping = ReferenceMapping()
    for record in records:
        if record.engine_kind == convert.OVERLAY_GSPS:
            continue  # made from images' overlays: references to those images do not move to it
        for source in record.sources:
            target = ReferenceTarget(
                record.sop_class_uid,
                record.sop_instance_uid,
                source.frame,
                record.series_instance_uid,
                record.study_instance_uid,
            )
            mapping.add(source.source_sop_instance_uid, source.source_frame, target)
            if source.source_frame is not None:
                # A reference to the whole multi-frame source names every instance made of its frames.
                mapping.add(source.source_sop_instance_uid, None, target)
    return mapping


class GenerationMaker:
    """Plan and produce every output of one generation (pure except for reading the originals' files).

    Parameters
    ----------
    uids : qrscp.convert.UIDSource
        Derives every new UID from the sources (per-installation secret).
    file_store : qrscp.store.filestore.FileStore
        Where the originals are read.
    """

    def __init__(self, uids: UIDSource, file_store: FileStore) -> None:
        self.uids = uids
        self.file_store = file_store

    def read(self, instance: Instance) -> Dataset | None:
        """Read a stored instance; values larger than 64 KiB (pixel data) are read when first used."""
        path = self.file_store.absolute(instance.file_path)
        try:
            return read_source(path, defer=True)
        except (OSError, InvalidDicomError, ValueError, EOFError) as exc:
            LOGGER.error("view build: cannot read %s (%s): %s", instance.sop_instance_uid, instance.file_path, exc)
            return None

    def make(
        self,
        view: View,
        originals: Sequence[Instance],
        mapping: ReferenceMapping,
        mapped_before: set[str],
        earlier_enhanced: Sequence[Instance] = (),
    ) -> Generation:
        """Plan and produce every output of one generation.

        Parameters
        ----------
        view : View
            CLASSIC or ENHANCED.
        originals : sequence of Instance
            The index rows of the generation's instances as received.
        mapping : qrscp.convert.ReferenceMapping
            The mapping of the earlier generations; completed in place with this one's.
        mapped_before : set of str
            Originals of earlier generations that got a new identity in the view.
        earlier_enhanced : sequence of Instance
            ENHANCED view: enhanced images of earlier generations shown unchanged (their frames may hold
            classic images of this generation).

        Returns
        -------
        Generation
            The plan, every new instance and the fate of every original (an unreadable one: unchanged).
        """
        rows = {row.sop_instance_uid: row for row in originals}
        headers: dict[str, Dataset] = {}
        for uid, row in rows.items():
            header = self.read(row)
            if header is not None and "SOPInstanceUID" in header and str(header.SOPInstanceUID) == uid:
                headers[uid] = header
        superseding = self._superseding(view, headers, earlier_enhanced)
        for source, target in superseding.items():
            if not mapping.targets(source):  # converted by an earlier generation: that conversion stays
                mapping.add(source, None, target)  # references to a held classic image go to its frame
        plan = plan_view(
            view,
            headers,
            mapped_before=mapped_before,
            superseded=[uid for uid in superseding if uid in headers and uid not in mapped_before],
            group_for_enhanced=convert.group_for_enhanced,
        )
        generation = Generation(plan, fates=dict(plan.fates))
        for uid in rows:
            generation.fates.setdefault(uid, UNCHANGED)  # unreadable: shown as received
        self._convert(view, generation, headers, rows, mapping)
        self._rewrite(view, generation, headers, rows, mapping)
        for output in generation.outputs:
            if "QueryRetrieveView" not in output.dataset:
                output.dataset.QueryRetrieveView = view.value
        return generation

    def _superseding(self, view: View, headers: dict[str, Dataset], earlier_enhanced: Sequence[Instance]) -> dict[str, Any]:
        """ENHANCED view: classic UID -> frame of a received enhanced image that already holds it."""
        if view is not View.ENHANCED:
            return {}
        enhanced = {uid: ds for uid, ds in headers.items() if str(ds.get("SOPClassUID", "")) in ENHANCED_TO_CLASSIC}
        for row in earlier_enhanced:
            ds = self.read(row)
            if ds is not None:
                enhanced[row.sop_instance_uid] = ds
        targets: dict[str, Any] = {}
        for uid in sorted(enhanced):
            ds = enhanced[uid]
            for source, frame in enhanced_frame_sources(ds).items():
                targets.setdefault(source, ReferenceTarget(
                    str(ds.SOPClassUID), uid, frame, str(ds.get("SeriesInstanceUID", "")), str(ds.get("StudyInstanceUID", ""))
                ))
        return targets

    def _convert(
        self,
        view: View,
        generation: Generation,
        headers: dict[str, Dataset],
        rows: dict[str, Instance],
        mapping: ReferenceMapping,
    ) -> None:
        """Step 1: run the engine on every group of the plan; a failing group is shown unchanged."""
        for group in generation.plan.conversions:
            sources = [headers[uid] for uid in group]
            try:
                if view is View.ENHANCED:
                    conversions = convert.to_enhanced(sources, uids=self.uids, view=view)
                else:
                    conversions = convert.to_classic(sources[0], uids=self.uids, view=view)
            except Exception:  # noqa: BLE001 - one bad group must not block the patient's view
                LOGGER.exception("view %s: conversion of %s failed; shown unchanged", view.value, ", ".join(group))
                for uid in group:
                    generation.fates[uid] = UNCHANGED
                continue
            for conversion in conversions:
                mapping.add_conversion(conversion)
                generation.outputs.append(self._output_of_conversion(conversion, rows, view))

    def _rewrite(
        self,
        view: View,
        generation: Generation,
        headers: dict[str, Dataset],
        rows: dict[str, Instance],
        mapping: ReferenceMapping,
    ) -> None:
        """Step 2: rewrites, with the mapping completed until every rewritten instance's new identity is known."""
        to_rewrite = [uid for uid in generation.plan.rewritten if generation.fates.get(uid) == REWRITTEN]
        if not to_rewrite:
            return
        originals_full = {uid: headers[uid] for uid in to_rewrite}
        rewritten = self._rewrite_all(view, originals_full, mapping)
        for uid in to_rewrite:
            ds = rewritten.get(uid)
            if ds is None:
                generation.fates[uid] = UNCHANGED
                continue
            generation.outputs.append(
                Output(
                    dataset=ds,
                    kind=REWRITTEN,
                    engine_kind="rewritten",
                    sources=[(uid, rows[uid].sop_class_uid, None, None)],
                    transfer_syntax_uid=_transfer_syntax_of(ds, rows[uid]),
                )
            )

    def _output_of_conversion(self, conversion: Any, rows: dict[str, Instance], view: View) -> Output:
        sources = []
        new_uid = conversion.sop_instance_uid
        for source in conversion.sources:
            frame_target = conversion.frame_map.get((source.sop_instance_uid, source.frame))
            new_frame = frame_target[1] if frame_target and frame_target[0] == new_uid else None
            sop_class = source.sop_class_uid or (
                rows[source.sop_instance_uid].sop_class_uid if source.sop_instance_uid in rows else ""
            )
            sources.append((source.sop_instance_uid, sop_class, source.frame, new_frame))
        return Output(
            dataset=conversion.dataset,
            kind=CONVERTED,
            engine_kind=str(getattr(conversion, "kind", "")),
            sources=sources,
            transfer_syntax_uid=_transfer_syntax_of(conversion.dataset, None),
        )

    def _rewrite_all(self, view: View, originals: dict[str, Dataset | None], mapping: ReferenceMapping) -> dict[str, Dataset]:
        """Rewrite the closure; first pass(es) learn each new identity, the last pass uses them all.

        A rewritten instance's new UIDs depend only on its own UIDs (UIDSource), so rewriting again with a
        richer mapping changes only the references inside it, never its identity.
        """
        known: dict[str, Dataset] = {}
        pending = {uid: ds for uid, ds in originals.items() if ds is not None}
        while pending:
            progressed = False
            for uid, ds in sorted(pending.items()):
                result = convert.rewrite_references(ds, mapping, uids=self.uids, view=view)
                if result is None:
                    continue
                known[uid] = result
                mapping.add(
                    uid,
                    None,
                    ReferenceTarget(
                        str(result.SOPClassUID),
                        str(result.SOPInstanceUID),
                        None,
                        str(result.SeriesInstanceUID),
                        str(result.get("StudyInstanceUID", "")),
                    ),
                )
                progressed = True
            pending = {uid: ds for uid, ds in pending.items() if uid not in known}
            if not progressed:
                break
        final: dict[str, Dataset] = {}
        for uid in sorted(known):
            result = convert.rewrite_references(originals[uid], mapping, uids=self.uids, view=view)
            final[uid] = result if result is not None else known[uid]
        return final


def _transfer_syntax_of(ds: Dataset, row: Instance | None) -> str:
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID"):
        return str(meta.TransferSyntaxUID)
    if row is not None and row.transfer_syntax_uid:
        return row.transfer_syntax_uid
    return ExplicitVRLittleEndian


def earlier_generations(
    session: Session, patient_fk: int, view: View, generation: int
) -> tuple[ReferenceMapping, set[str], list[Instance]]:
    """What `generation` starts from: the reference mapping and the re-identified originals of the
    generations before it and (ENHANCED view) their enhanced images shown unchanged."""
    mapping = mapping_of_records(view_records.conversion_records(session, patient_fk, view, before=generation))
    mapped_before = view_records.reidentified_originals(session, patient_fk, view, before=generation)
    if view is not View.ENHANCED:
        return mapping, mapped_before, []
    return mapping, mapped_before, view_records.enhanced_originals(session, patient_fk, view, before=generation)
