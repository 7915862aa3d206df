"""Several patients with several studies each, and the objects that reference across them.

Layout per patient (``studies_per_patient`` >= 2):

- study 1: CT series, PET series sharing the CT's Frame of Reference (a PET/CT), GSPS on the CT, a
  Comprehensive SR citing CT and PET images, a KOS on the CT, an RT Structure Set on the CT, a SEG on the CT;
- study 2: MR series, a true Enhanced MR with a SEG and a frame-referencing KOS on it, and a GSPS that annotates study 1's CT images
  (a cross-study reference);
- study 3 and beyond: one more CT series each.

For the first patient the CT has one more slice than is sent: the KOS cites it, so one reference points to
an instance the archive never receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from qrscp.testing.classic import make_series
from qrscp.testing.enhanced import make_enhanced_mr
from qrscp.testing.identity import PatientSpec, derive_uid
from qrscp.testing.references import make_gsps, make_kos, make_rtstruct, make_sr
from qrscp.testing.segmentation import make_seg


@dataclass
class GeneratedStudy:
    """One study: its UID, its patient and its series by role ("CT", "PET", "GSPS", ...)."""

    study_uid: str
    patient: PatientSpec
    series: dict[str, list[Dataset]] = field(default_factory=dict)

    @property
    def instances(self) -> list[Dataset]:
        """Every instance of the study, series in role order."""
        return [ds for members in self.series.values() for ds in members]


@dataclass(frozen=True)
class Reference:
    """One reference from an instance to another (possibly never sent) instance."""

    referencing_sop_instance_uid: str
    referencing_role: str
    referenced_sop_instance_uid: str
    referenced_study_uid: str
    sent: bool
    referenced_frames: tuple[int, ...] = ()


@dataclass
class PatientStudies:
    """What `make_patient_studies` generated.

    Attributes
    ----------
    patients
        The patients, in order.
    studies
        Every study, grouped by patient in the order of `patients`.
    withheld
        Instances that are referenced but must not be sent (never stored).
    references
        Every reference from a GSPS/SR/KOS/RTSTRUCT/SEG to an image.
    """

    patients: list[PatientSpec]
    studies: list[GeneratedStudy]
    withheld: list[Dataset]
    references: list[Reference]

    @property
    def instances(self) -> list[Dataset]:
        """Every instance to send (withheld ones excluded), in a dependency-friendly order."""
        return [ds for study in self.studies for ds in study.instances]

    def studies_of(self, patient_id: str) -> list[GeneratedStudy]:
        """Return the studies of one patient."""
        return [study for study in self.studies if study.patient.patient_id == patient_id]

    def by_sop_instance_uid(self) -> dict[str, Dataset]:
        """Map SOP Instance UID -> dataset for sent and withheld instances."""
        return {ds.SOPInstanceUID: ds for ds in [*self.instances, *self.withheld]}


def make_patient_studies(
    *,
    patients: int = 2,
    studies_per_patient: int = 2,
    slices: int = 4,
    rows: int = 32,
    columns: int = 32,
    seed: int = 0,
    transfer_syntax: str = ExplicitVRLittleEndian,
    include_enhanced: bool = True,
) -> PatientStudies:
    """Return several patients and studies with cross-references (see the module docstring).

    Parameters
    ----------
    patients, studies_per_patient
        How many; `studies_per_patient` below 2 drops the second study and its cross-study GSPS.
    slices, rows, columns
        Size of each classic series.
    seed
        Everything is derived from it.
    transfer_syntax
        Of the classic image series (the referencing objects stay Explicit VR Little Endian).
    include_enhanced
        Add the true Enhanced MR (and its SEG) to study 2.

    Returns
    -------
    PatientStudies
    """
    all_studies: list[GeneratedStudy] = []
    withheld: list[Dataset] = []
    references: list[Reference] = []
    specs = [PatientSpec.from_seed(seed * 1000 + number) for number in range(patients)]
    for number, patient in enumerate(specs):
        patient_seed = seed * 1000 + number
        study_uids = [derive_uid("study", patient.patient_id, patient_seed, index) for index in range(studies_per_patient)]
        first = GeneratedStudy(study_uids[0], patient)
        extra_slice = 1 if number == 0 else 0
        ct = make_series("CT", slices=slices + extra_slice, rows=rows, columns=columns, patient=patient,
                         study_uid=study_uids[0], seed=patient_seed, series_number=2,
                         transfer_syntax=transfer_syntax)
        sent_ct, unsent = ct[: slices], ct[slices:]
        withheld.extend(unsent)
        pet = make_series("PET", slices=slices, rows=rows, columns=columns, patient=patient,
                          study_uid=study_uids[0], seed=patient_seed, series_number=3,
                          frame_of_reference_uid=ct[0].FrameOfReferenceUID, transfer_syntax=transfer_syntax)
        first.series["CT"] = sent_ct
        first.series["PET"] = pet
        first.series["GSPS"] = [make_gsps(sent_ct, seed=patient_seed)]
        first.series["SR"] = [make_sr([sent_ct[0], pet[0]], seed=patient_seed)]
        first.series["KOS"] = [make_kos([sent_ct[0], *unsent] if unsent else sent_ct[:2], seed=patient_seed)]
        first.series["RTSTRUCT"] = [make_rtstruct(sent_ct, seed=patient_seed)]
        first.series["SEG"] = [make_seg(sent_ct, seed=patient_seed)]
        all_studies.append(first)
        if studies_per_patient >= 2:
            second = GeneratedStudy(study_uids[1], patient)
            second.series["MR"] = make_series("MR", slices=slices, rows=rows, columns=columns, patient=patient,
                                              study_uid=study_uids[1], seed=patient_seed, series_number=4,
                                              transfer_syntax=transfer_syntax)
            if include_enhanced:
                enhanced = make_enhanced_mr(frames=slices, rows=rows, columns=columns, patient=patient,
                                            study_uid=study_uids[1], seed=patient_seed)
                second.series["ENHANCED_MR"] = [enhanced]
                second.series["SEG_ENHANCED"] = [make_seg(enhanced, seed=patient_seed + 1)]
                # Frame-level references: what the CLASSIC view must map to single-frame instances.
                second.series["KOS_FRAMES"] = [
                    make_kos([enhanced], seed=patient_seed + 1, frames={enhanced.SOPInstanceUID: [1, 2]})
                ]
            second.series["GSPS_PRIOR"] = [make_gsps(sent_ct[:2], seed=patient_seed + 1, study_uid=study_uids[1],
                                                     label="PRIOR")]
            all_studies.append(second)
        for index in range(2, studies_per_patient):
            later = GeneratedStudy(study_uids[index], patient)
            later.series["CT"] = make_series("CT", slices=slices, rows=rows, columns=columns, patient=patient,
                                             study_uid=study_uids[index], seed=patient_seed + index,
                                             series_number=2, transfer_syntax=transfer_syntax)
            all_studies.append(later)
    result = PatientStudies(specs, all_studies, withheld, references)
    lookup = result.by_sop_instance_uid()
    sent = {ds.SOPInstanceUID for ds in result.instances}
    for study in all_studies:
        references += _references(study, lookup, sent)
    return result


_REFERENCING_ROLES = ("GSPS", "SR", "KOS", "RTSTRUCT", "SEG", "SEG_ENHANCED", "KOS_FRAMES", "GSPS_PRIOR")


def _references(study: GeneratedStudy, lookup: dict[str, Dataset], sent: set[str]) -> list[Reference]:
    found = []
    for role in _REFERENCING_ROLES:
        for ds in study.series.get(role, []):
            for uid, frames in sorted(referenced_instances(ds)):
                target = lookup.get(uid)
                study_uid = target.StudyInstanceUID if target is not None else ""
                found.append(Reference(ds.SOPInstanceUID, role, uid, study_uid, uid in sent, frames))
    return found


def referenced_sop_instance_uids(ds: Dataset) -> set[str]:
    """Return every Referenced SOP Instance UID of a composite instance (Storage SOP Classes only) anywhere
    in `ds`, nested sequences included."""
    return {uid for uid, _ in referenced_instances(ds)}


def referenced_instances(ds: Dataset) -> set[tuple[str, tuple[int, ...]]]:
    """Return (Referenced SOP Instance UID, Referenced Frame Numbers) for every reference to a Storage SOP
    Class instance anywhere in `ds` (frames empty when the whole instance is referenced)."""
    found: set[tuple[str, tuple[int, ...]]] = set()
    pending = [ds]
    while pending:
        item = pending.pop()
        if "ReferencedSOPInstanceUID" in item and str(item.get("ReferencedSOPClassUID", "")).startswith(
            "1.2.840.10008.5.1.4.1.1."
        ):
            found.add((item.ReferencedSOPInstanceUID, _frame_numbers(item.get("ReferencedFrameNumber"))))
        for element in item:
            if element.VR == "SQ":
                pending.extend(element.value)
    return found


def _frame_numbers(value: object) -> tuple[int, ...]:
    """Referenced Frame Number (IS, VM 1-n) as a tuple; pydicom gives an int-like or a MultiValue."""
    if value is None or value == "":
        return ()
    if isinstance(value, (int, str)):
        return (int(value),)
    return tuple(int(v) for v in value)  # type: ignore[attr-defined]
