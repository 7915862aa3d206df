"""One concept, two vocabularies: the terms of the classic and of the enhanced IODs, mapped both ways.

PS3.3 gives some attributes other Enumerated/Defined Terms in the enhanced MR/CT/PET modules and macros
than in the classic image modules, or expresses a classic attribute through other enhanced attributes.
A value copied across without mapping is invalid in its new place. Pairs (classic <-> enhanced):

=============================================  ==============================================================
classic                                        enhanced
=============================================  ==============================================================
In-plane Phase Encoding Direction (C.8.3.1):   In-plane Phase Encoding Direction (MR FOV/Geometry macro,
ROW, COL                                       C.8.13.5.3): ROW, COLUMN, OTHER
MR Acquisition Type (C.8.3.1): 2D, 3D          MR Acquisition Type (C.8.13.1): 1D, 2D, 3D
Scanning Sequence (C.8.3.1): SE, IR, GR, EP,   Echo Pulse Sequence SPIN, GRADIENT, BOTH (C.8.13.1) with
RM                                             Inversion Recovery YES/NO (MR Modifier macro) and
                                               Echo Planar Pulse Sequence YES/NO (C.8.13.4)
Laterality (C.7.3.1): R, L                     Frame Laterality (Frame Anatomy macro, C.7.6.16.2.8):
                                               R, L, U, B
Imaged Nucleus (C.8.3.1, Type 3, free text,    Resonant Nucleus (MR Image and Spectroscopy Instance macro,
e.g. 1H, vendors also write H1)                C.8.13.1, Type 1C, "may be present" in Legacy Converted):
                                               1H 3HE 7LI 13C 19F 23NA 31P 129XE
=============================================  ==============================================================

Classic attributes whose enhanced counterpart the Legacy Converted IODs do not use travel unchanged in the
Unassigned Converted Attributes (docs/conformance.md 5.4), and are derived only when a true Enhanced image
becomes classic: PET Corrected Image <-> the YES/NO flags of the Enhanced PET Corrections module (not part
of the Legacy Converted Enhanced PET IOD), MR Scan Options <-> Spectrally Selected Suppression (MR Pulse
Sequence module), Partial Fourier Direction, Spatial Presaturation, Flow Compensation (MR Modifier macro),
neither of which the Legacy Converted Enhanced MR IOD uses.

A term with no counterpart (OTHER, 1D, U, B) is left out of the classic image (the classic attributes are
Type 3 or 2 there; a Type 2 one stays present with no value).
"""

from __future__ import annotations

import re

from pydicom.dataset import Dataset

from qrscp.uids import MR_IMAGE_STORAGE as MR_IMAGE
from qrscp.uids import PET_IMAGE_STORAGE as PET_IMAGE

#: keyword -> (classic term -> enhanced term) for attributes with the same keyword on both sides.
SAME_KEYWORD: dict[str, dict[str, str]] = {
    "InPlanePhaseEncodingDirection": {"ROW": "ROW", "COL": "COLUMN"},
    "MRAcquisitionType": {"2D": "2D", "3D": "3D"},
}
#: Classic Laterality -> enhanced Frame Laterality.
LATERALITY = {"R": "R", "L": "L"}
#: Defined Terms of Resonant Nucleus (0018,9100).
RESONANT_NUCLEI = ("1H", "3HE", "7LI", "13C", "19F", "23NA", "31P", "129XE")
#: Enhanced Echo Pulse Sequence -> classic Scanning Sequence values.
ECHO_PULSE_SEQUENCE = {"SPIN": ["SE"], "GRADIENT": ["GR"], "BOTH": ["SE", "GR"]}


def to_enhanced_term(keyword: str, classic_term: str) -> str | None:
    """The enhanced term for a classic one (None: no counterpart)."""
    return SAME_KEYWORD.get(keyword, {}).get(classic_term.strip())


def to_classic_term(keyword: str, enhanced_term: str) -> str | None:
    """The classic term for an enhanced one (None: no counterpart)."""
    reverse = {enhanced: classic for classic, enhanced in SAME_KEYWORD.get(keyword, {}).items()}
    return reverse.get(enhanced_term.strip())


def frame_laterality(classic_laterality: str) -> str:
    """Frame Laterality for a classic Laterality / Image Laterality value (U when unknown)."""
    value = classic_laterality.strip().upper()
    return value if value in ("R", "L", "B") else "U"


def classic_laterality(frame_laterality_value: str) -> str | None:
    """Classic Laterality for a Frame Laterality (None for U and B: no classic term)."""
    return LATERALITY.get(frame_laterality_value.strip().upper())


def resonant_nucleus(imaged_nucleus: str) -> str | None:
    """Resonant Nucleus for a classic Imaged Nucleus: mass number first, upper case ("H1", "1h" -> "1H");
    None when the value is not one of the Defined Terms (nothing is invented)."""
    value = imaged_nucleus.strip().upper()
    swapped = re.fullmatch(r"([A-Z]+)(\d+)", value)
    term = swapped.group(2) + swapped.group(1) if swapped else value
    return term if term in RESONANT_NUCLEI else None


def imaged_nucleus(resonant_nucleus_value: str) -> str:
    """Classic Imaged Nucleus for an enhanced Resonant Nucleus (the same term: Imaged Nucleus has none of
    its own)."""
    return resonant_nucleus_value.strip()


#: Enhanced PET Corrections flag (YES/NO) -> classic Corrected Image term (C.8.9.4.1.x, C.8.22.x).
PET_CORRECTIONS = {
    "DecayCorrected": "DECY", "AttenuationCorrected": "ATTN", "ScatterCorrected": "SCAT",
    "DeadTimeCorrected": "DTIM", "GantryMotionCorrected": "MOTN", "PatientMotionCorrected": "PMOT",
    "CountLossNormalizationCorrected": "CLN", "RandomsCorrected": "RAN", "NonUniformRadialSamplingCorrected": "RADL",
}


def corrected_image(flags: dict[str, str]) -> list[str]:
    """Classic Corrected Image terms for the enhanced correction flags that are YES."""
    return [term for keyword, term in PET_CORRECTIONS.items() if str(flags.get(keyword, "")).strip().upper() == "YES"]


def correction_flags(terms: list[str]) -> dict[str, str]:
    """Enhanced correction flags (all nine, YES/NO) for classic Corrected Image terms (NORM, DCAL: none)."""
    present = {t.strip().upper() for t in terms}
    return {keyword: "YES" if term in present else "NO" for keyword, term in PET_CORRECTIONS.items()}


#: Classic Scan Options term -> (enhanced keyword, enhanced values that give it).
SCAN_OPTIONS = {
    "FS": ("SpectrallySelectedSuppression", ("FAT", "FAT_AND_WATER")),
    "PFP": ("PartialFourierDirection", ("PHASE",)),
    "PFF": ("PartialFourierDirection", ("FREQUENCY",)),
    "SP": ("SpatialPresaturation", ("SLAB",)),
    "FC": ("FlowCompensation", ("ACCELERATION", "VELOCITY", "OTHER")),
}


def scan_options(enhanced: dict[str, str]) -> list[str]:
    """Classic Scan Options from the enhanced MR Pulse Sequence / MR Modifier values (keyword -> value)."""
    return [term for term, (keyword, values) in SCAN_OPTIONS.items()
            if str(enhanced.get(keyword, "")).strip().upper() in values]


def scan_option_values(terms: list[str]) -> dict[str, str]:
    """Enhanced values for classic Scan Options terms (the first value each term stands for)."""
    present = {t.strip().upper() for t in terms}
    return {keyword: values[0] for term, (keyword, values) in SCAN_OPTIONS.items() if term in present}


def apply_classic_derivations(ds: Dataset, source: Dataset, classic_class: str, groups: list[Dataset]) -> None:
    """Classic attributes a new MR/PET image derives from enhanced ones when the frame lacks a value:
    Imaged Nucleus, Scan Options (MR), Corrected Image (PET)."""
    if classic_class == MR_IMAGE and "ImagedNucleus" not in ds and source.get("ResonantNucleus"):
        ds.ImagedNucleus = imaged_nucleus(str(source.ResonantNucleus))
    if classic_class == MR_IMAGE and not ds.get("ScanOptions"):
        options = scan_options({keyword: find_enhanced([*groups, source], keyword)
                                for keyword, _ in SCAN_OPTIONS.values()})
        if options:
            ds.ScanOptions = options
    if classic_class == PET_IMAGE and not ds.get("CorrectedImage"):
        terms = corrected_image({keyword: str(source.get(keyword, "") or "") for keyword in PET_CORRECTIONS})
        if terms:
            ds.CorrectedImage = terms


def scanning_sequence(echo_pulse_sequence: str, inversion_recovery: str = "", echo_planar: str = "") -> list[str]:
    """Classic Scanning Sequence from the enhanced Echo Pulse Sequence, Inversion Recovery and Echo Planar
    Pulse Sequence (RM, research mode, when the echo is unknown)."""
    values = list(ECHO_PULSE_SEQUENCE.get(echo_pulse_sequence.strip().upper(), ["RM"]))
    if inversion_recovery.strip().upper() == "YES":
        values.append("IR")
    if echo_planar.strip().upper() == "YES":
        values.append("EP")
    return values


def echo_pulse_sequence(scanning: list[str]) -> tuple[str, str, str]:
    """(Echo Pulse Sequence, Inversion Recovery, Echo Planar Pulse Sequence) for a classic Scanning
    Sequence; EP alone is a gradient echo train, IR alone a spin echo (its refocusing pulses)."""
    values = {v.strip().upper() for v in scanning}
    spin = "SE" in values or ("IR" in values and "GR" not in values)
    gradient = "GR" in values or ("EP" in values and not spin)
    echo = "BOTH" if spin and gradient else "SPIN" if spin else "GRADIENT" if gradient else ""
    return echo, "YES" if "IR" in values else "NO", "YES" if "EP" in values else "NO"


def apply_classic_vocabulary(ds: Dataset, groups: list[Dataset]) -> None:
    """Rewrite, in a new classic image made from an enhanced one, the values copied across in the enhanced
    vocabulary, and derive Scanning Sequence from the enhanced attributes of `groups` (the frame's Shared
    and Per-Frame items, then the top level)."""
    for keyword in SAME_KEYWORD:
        if keyword in ds and ds[keyword].value not in (None, ""):
            term = to_classic_term(keyword, str(ds[keyword].value))
            if term is not None:
                setattr(ds, keyword, term)
            elif keyword == "MRAcquisitionType":
                ds[keyword].value = None  # Type 2 in the MR Image module: present, no value
            else:
                del ds[keyword]


def find_enhanced(groups: list[Dataset], keyword: str, depth: int = 0) -> str:
    """First value of `keyword` in `groups` or the first items of their sequences (two levels deep)."""
    for group in groups:
        if keyword in group and group[keyword].value not in (None, ""):
            return str(group[keyword].value)
    if depth < 2:
        for group in groups:
            for elem in group:
                if elem.VR == "SQ" and elem.value and elem.tag.group % 2 == 0:
                    found = find_enhanced([elem.value[0]], keyword, depth + 1)
                    if found:
                        return found
    return ""
