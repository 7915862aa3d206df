"""Transcode generated datasets into any transfer syntax the archive must accept.

pydicom 3 encodes RLE (native numpy or pylibjpeg-rle), JPEG-LS (pyjpegls) and JPEG 2000 (pylibjpeg-openjpeg);
the JPEG processes 1, 2/4 and 14 are encoded by DCMTK ``dcmcjpeg`` on a temporary file. Uncompressed syntaxes
need no codec; Explicit VR Big Endian byte-swaps the 16-bit words here because pydicom refuses to convert.
"""

from __future__ import annotations

import copy
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels.encoders import (
    JPEG2000Encoder,
    JPEG2000LosslessEncoder,
    JPEGLSLosslessEncoder,
    JPEGLSNearLosslessEncoder,
    RLELosslessEncoder,
)
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from qrscp.testing.dcmtk import dcmtk_tool, run_dcmtk


@dataclass(frozen=True)
class TransferSyntaxInfo:
    """How the factory produces one transfer syntax.

    Attributes
    ----------
    uid, name
        Transfer Syntax UID and its name.
    lossless
        Whether decoded pixel values equal the source values.
    codec
        "none" (uncompressed), "pydicom" (``Dataset.compress``) or the DCMTK program name.
    max_bits_stored
        Largest Bits Stored the codec accepts (8 for JPEG Baseline, 12 for JPEG Extended).
    fallback
        DCMTK program used when the pydicom plugin is missing ("" when none).
    """

    uid: str
    name: str
    lossless: bool
    codec: str
    max_bits_stored: int = 16
    fallback: str = ""


#: Every transfer syntax the factory can write, in the order the mixed-syntax variant cycles through.
TRANSFER_SYNTAXES: dict[str, TransferSyntaxInfo] = {
    info.uid: info
    for info in (
        TransferSyntaxInfo(ExplicitVRLittleEndian, "Explicit VR Little Endian", True, "none"),
        TransferSyntaxInfo(ImplicitVRLittleEndian, "Implicit VR Little Endian", True, "none"),
        TransferSyntaxInfo(DeflatedExplicitVRLittleEndian, "Deflated Explicit VR Little Endian", True, "none"),
        TransferSyntaxInfo(ExplicitVRBigEndian, "Explicit VR Big Endian", True, "none"),
        TransferSyntaxInfo(RLELossless, "RLE Lossless", True, "pydicom", fallback="dcmcrle"),
        TransferSyntaxInfo(JPEGLSLossless, "JPEG-LS Lossless", True, "pydicom", fallback="dcmcjpls"),
        TransferSyntaxInfo(JPEG2000Lossless, "JPEG 2000 Lossless", True, "pydicom"),
        TransferSyntaxInfo(JPEGLosslessSV1, "JPEG Lossless SV1", True, "dcmcjpeg"),
        TransferSyntaxInfo(JPEGLossless, "JPEG Lossless (Process 14)", True, "dcmcjpeg"),
        TransferSyntaxInfo(JPEGLSNearLossless, "JPEG-LS Near-Lossless", False, "pydicom", fallback="dcmcjpls"),
        TransferSyntaxInfo(JPEG2000, "JPEG 2000", False, "pydicom"),
        TransferSyntaxInfo(JPEGBaseline8Bit, "JPEG Baseline", False, "dcmcjpeg", max_bits_stored=8),
        TransferSyntaxInfo(JPEGExtended12Bit, "JPEG Extended", False, "dcmcjpeg", max_bits_stored=12),
    )
}

_PYDICOM_ENCODERS = {
    RLELossless: RLELosslessEncoder,
    JPEGLSLossless: JPEGLSLosslessEncoder,
    JPEGLSNearLossless: JPEGLSNearLosslessEncoder,
    JPEG2000Lossless: JPEG2000LosslessEncoder,
    JPEG2000: JPEG2000Encoder,
}

_DCMTK_OPTIONS = {
    JPEGBaseline8Bit: ("+eb", "+q", "90", "+sr"),
    JPEGExtended12Bit: ("+ee", "+q", "90", "+sr"),
    JPEGLosslessSV1: ("+e1",),
    JPEGLossless: ("+el", "+sv", "6"),
    RLELossless: (),
    JPEGLSLossless: ("+el",),
    JPEGLSNearLossless: ("+en", "+md", "2"),
}


class TransferSyntaxUnavailable(RuntimeError):
    """The codec of a transfer syntax is not installed (tests skip on it)."""


def is_available(transfer_syntax: str) -> bool:
    """Return whether this machine can encode `transfer_syntax`."""
    info = TRANSFER_SYNTAXES.get(transfer_syntax)
    if info is None:
        return False
    if info.codec == "none":
        return True
    if info.codec == "pydicom" and _PYDICOM_ENCODERS[transfer_syntax].is_available:
        return True
    tool = info.fallback if info.codec == "pydicom" else info.codec
    return bool(tool) and dcmtk_tool(tool) is not None


def available_transfer_syntaxes(*, lossless_only: bool = False) -> list[str]:
    """Return the UIDs of `TRANSFER_SYNTAXES` whose codec is installed, in table order."""
    return [
        uid for uid, info in TRANSFER_SYNTAXES.items() if is_available(uid) and (info.lossless or not lossless_only)
    ]


#: Order in which ``mixed_transfer_syntaxes=True`` assigns syntaxes to consecutive slices (lossless only, so
#: that a converted series can be compared value for value with its sources).
MIXED_SERIES_ORDER = (
    ExplicitVRLittleEndian,
    RLELossless,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    JPEGLosslessSV1,
    DeflatedExplicitVRLittleEndian,
)


def mixed_series_transfer_syntaxes() -> list[str]:
    """Return the installed syntaxes of `MIXED_SERIES_ORDER`, in that order."""
    return [uid for uid in MIXED_SERIES_ORDER if is_available(uid)]


def encode(ds: Dataset, transfer_syntax_uid: str) -> Dataset:
    """Return a copy of `ds` with its pixel data encoded in `transfer_syntax_uid`.

    Parameters
    ----------
    ds
        A dataset with ``file_meta.TransferSyntaxUID`` set (compressed sources are decoded first).
    transfer_syntax_uid
        Target Transfer Syntax UID, one of `TRANSFER_SYNTAXES`.

    Returns
    -------
    pydicom.Dataset
        A new dataset; `ds` is not modified. SOP Instance UID is kept even for lossy syntaxes, as a
        test fixture must stay addressable.

    Raises
    ------
    TransferSyntaxUnavailable
        When the codec is not installed or cannot encode these pixels (e.g. 16-bit JPEG Baseline).
    """
    info = TRANSFER_SYNTAXES.get(transfer_syntax_uid)
    if info is None:
        raise TransferSyntaxUnavailable(f"factory cannot write transfer syntax {transfer_syntax_uid}")
    if not is_available(transfer_syntax_uid):
        raise TransferSyntaxUnavailable(f"no codec installed for {info.name}")
    out = _uncompressed_little_endian(ds)
    if "PixelData" in out and out.BitsStored > info.max_bits_stored:
        raise TransferSyntaxUnavailable(f"{info.name} cannot encode Bits Stored {out.BitsStored}")
    if info.codec == "none" or "PixelData" not in out:
        if transfer_syntax_uid == ExplicitVRBigEndian:
            _swap_words_to_big_endian(out)
        _set_transfer_syntax(out, transfer_syntax_uid)
        return out
    if info.codec == "pydicom" and _PYDICOM_ENCODERS[transfer_syntax_uid].is_available:
        kwargs: dict = {}
        if transfer_syntax_uid == JPEG2000:
            kwargs["j2k_cr"] = [10]
        if transfer_syntax_uid == JPEGLSNearLossless:
            kwargs["jls_error"] = 2
        out.compress(transfer_syntax_uid, generate_instance_uid=False, **kwargs)
        if not info.lossless:
            _mark_lossy(out, transfer_syntax_uid)
        _set_transfer_syntax(out, transfer_syntax_uid)
        return out
    return _encode_with_dcmtk(out, transfer_syntax_uid, info.codec if info.codec != "pydicom" else info.fallback)


def _uncompressed_little_endian(ds: Dataset) -> Dataset:
    """Deep copy of `ds` in Explicit VR Little Endian (decoding compressed pixel data)."""
    out = copy.deepcopy(ds)
    if getattr(out, "file_meta", None) is None:
        # A bare dataset (no File Meta) is taken to be what pydicom builds in memory: Explicit VR LE.
        from qrscp.testing.classic import file_meta_for

        out.file_meta = file_meta_for(out, ExplicitVRLittleEndian)
    source = out.file_meta.get("TransferSyntaxUID")
    if source is not None and UID(source).is_compressed:
        out.decompress(generate_instance_uid=False)
    elif source == ExplicitVRBigEndian and "PixelData" in out:
        # Re-read through pydicom so that the words come back in native order.
        buffer = io.BytesIO()
        pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
        buffer.seek(0)
        back = pydicom.dcmread(buffer)
        out = copy.deepcopy(back)
        out.PixelData = back.pixel_array.astype(back.pixel_array.dtype.newbyteorder("<")).tobytes()
        for tag in _overlay_data_tags(out):
            words = np.frombuffer(out[tag].value, dtype=">u2")
            out[tag].value = words.astype("<u2").tobytes()
    _set_transfer_syntax(out, ExplicitVRLittleEndian)
    return out


def _overlay_data_tags(ds: Dataset) -> list[int]:
    return [int(elem.tag) for elem in ds if 0x6000 <= elem.tag.group <= 0x601E and elem.tag.element == 0x3000]


def _swap_words_to_big_endian(ds: Dataset) -> None:
    """Byte-swap OW pixel and overlay data: big endian OW is a sequence of big endian 16-bit words."""
    if "PixelData" in ds and ds.BitsAllocated > 8:
        dtype = {16: "<u2", 32: "<u4"}[ds.BitsAllocated]
        words = np.frombuffer(ds.PixelData, dtype=dtype)
        ds.PixelData = words.astype(dtype.replace("<", ">")).tobytes()
        ds["PixelData"].VR = "OW"
    for tag in _overlay_data_tags(ds):
        if ds[tag].VR == "OW":
            data = ds[tag].value
            ds[tag].value = np.frombuffer(data, dtype="<u2").astype(">u2").tobytes()


def _set_transfer_syntax(ds: Dataset, transfer_syntax_uid: str) -> None:
    ds.file_meta.TransferSyntaxUID = transfer_syntax_uid
    syntax = UID(transfer_syntax_uid)
    # The original encoding of a read dataset would make pydicom refuse or mis-encode the new syntax.
    ds.set_original_encoding(syntax.is_implicit_VR, syntax.is_little_endian, ds.get("SpecificCharacterSet"))


def _mark_lossy(ds: Dataset, transfer_syntax_uid: str) -> None:
    method = {JPEG2000: "ISO_15444_1", JPEGLSNearLossless: "ISO_14495_1", JPEGBaseline8Bit: "ISO_10918_1"}
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = ["10"]
    ds.LossyImageCompressionMethod = [method.get(transfer_syntax_uid, "ISO_10918_1")]
    image_type = list(ds.get("ImageType", []))
    if image_type and image_type[0] == "ORIGINAL":
        image_type[0] = "DERIVED"
        ds.ImageType = image_type


def _encode_with_dcmtk(ds: Dataset, transfer_syntax_uid: str, tool: str) -> Dataset:
    with tempfile.TemporaryDirectory(prefix="qrscp-encode-") as tmp:
        source = Path(tmp) / "in.dcm"
        target = Path(tmp) / "out.dcm"
        pydicom.dcmwrite(source, ds, enforce_file_format=True)
        # +un keeps the SOP Instance UID after lossy compression: fixtures are addressed by UID.
        keep_uid = ("+un",) if tool in ("dcmcjpeg", "dcmcjpls") else ()
        result = run_dcmtk(tool, *_DCMTK_OPTIONS[transfer_syntax_uid], *keep_uid, str(source), str(target))
        if result.returncode != 0 or not target.exists():
            raise TransferSyntaxUnavailable(f"{tool} failed: {result.stderr.strip()}")
        encoded = pydicom.dcmread(target)
        encoded.PixelData  # load before the file is removed (deferred reads are not used, but be explicit)
    encoded.file_meta.ImplementationClassUID = ds.file_meta.ImplementationClassUID
    encoded.file_meta.ImplementationVersionName = ds.file_meta.get("ImplementationVersionName", "QRSCP_FACTORY")
    if "SourceApplicationEntityTitle" in encoded.file_meta:
        del encoded.file_meta.SourceApplicationEntityTitle
    return encoded
