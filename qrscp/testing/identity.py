"""Deterministic identities for generated test instances: UIDs, patients and studies.

Everything here is a pure function of its arguments, so that two runs of the factory with the same seed
produce byte-identical files and two series generated for the same study agree on every study attribute.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

#: UID root of the factory's generated identities: 2.25 (UUID-derived, PS3.5 B.2), no registration needed.
UID_ROOT = "2.25."

_FAMILY_NAMES = ("Müller", "Smith", "Dupont", "Nakamura", "García", "Olsen", "Kowalski", "Rossi", "Øster", "Brown")
_GIVEN_NAMES = ("Jürgen", "Anna", "Émile", "Yuki", "José", "Ingrid", "Piotr", "Giulia", "Søren", "Mary")


def derive_uid(*parts: object) -> str:
    """Return a ``2.25.<int>`` UID that is a pure function of `parts`.

    Parameters
    ----------
    *parts
        Anything with a stable ``str()``: seed, modality, role, index...

    Returns
    -------
    str
        A valid UID of at most 44 characters.
    """
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode("utf-8")).digest()
    return UID_ROOT + str(int.from_bytes(digest[:16], "big"))


def derive_int(*parts: object, modulo: int) -> int:
    """Return a deterministic integer in ``range(modulo)`` from `parts`."""
    digest = hashlib.sha256("#".join(str(part) for part in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % modulo


@dataclass(frozen=True)
class PatientSpec:
    """The Patient module of generated instances.

    Attributes
    ----------
    patient_id, name, birth_date, sex
        Patient ID, Patient's Name (PN, may contain Latin-1 characters), Patient's Birth Date (DA), Sex (CS).
    weight_kg, size_m
        Patient's Weight and Size (needed by PET SUV computations).
    issuer
        Issuer of Patient ID.
    """

    patient_id: str
    name: str
    birth_date: str = "19700101"
    sex: str = "O"
    weight_kg: float = 75.0
    size_m: float = 1.75
    issuer: str = "QRSCP_FACTORY"

    @classmethod
    def from_seed(cls, seed: int) -> "PatientSpec":
        """Return a patient whose every attribute is derived from `seed`."""
        family = _FAMILY_NAMES[derive_int("family", seed, modulo=len(_FAMILY_NAMES))]
        given = _GIVEN_NAMES[derive_int("given", seed, modulo=len(_GIVEN_NAMES))]
        year = 1930 + derive_int("year", seed, modulo=80)
        month = 1 + derive_int("month", seed, modulo=12)
        day = 1 + derive_int("day", seed, modulo=28)
        return cls(
            patient_id=f"PAT{seed:06d}",
            name=f"{family}^{given}",
            birth_date=f"{year:04d}{month:02d}{day:02d}",
            sex=("M", "F", "O")[derive_int("sex", seed, modulo=3)],
            weight_kg=float(50 + derive_int("weight", seed, modulo=50)),
            size_m=round(1.5 + derive_int("size", seed, modulo=45) / 100, 2),
        )

    @property
    def age(self) -> str:
        """Patient's Age (AS) at the factory's reference date 2024-01-01."""
        return f"{max(0, 2024 - int(self.birth_date[:4])):03d}Y"


@dataclass(frozen=True)
class StudySpec:
    """General Study module values, a pure function of the Study Instance UID."""

    study_uid: str
    study_date: str
    study_time: str
    accession_number: str
    study_id: str
    description: str
    referring_physician: str

    @classmethod
    def for_uid(cls, study_uid: str) -> "StudySpec":
        """Return the study attributes of `study_uid` (identical for every series of the study)."""
        day = derive_int("study-day", study_uid, modulo=365 * 3)
        year = 2021 + day // 365
        day_of_year = day % 365
        month = 1 + day_of_year // 31 % 12
        mday = 1 + day_of_year % 28
        minutes = derive_int("study-time", study_uid, modulo=10 * 60)
        return cls(
            study_uid=study_uid,
            study_date=f"{year:04d}{month:02d}{mday:02d}",
            study_time=f"{8 + minutes // 60:02d}{minutes % 60:02d}00",
            accession_number=f"ACC{derive_int('accession', study_uid, modulo=10**8):08d}",
            study_id=str(1 + derive_int("study-id", study_uid, modulo=9999)),
            description=("CT CHEST ABDOMEN", "MR BRAIN", "PET-CT WHOLE BODY", "FOLLOW-UP")[
                derive_int("study-description", study_uid, modulo=4)
            ],
            referring_physician="Referrer^Rita",
        )
