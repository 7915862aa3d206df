"""Transcoding on retrieve: which transfer syntax a receiver gets, and the data set bytes in it.

A stored instance goes out as stored when the receiver accepted its transfer syntax. Otherwise
:func:`choose_syntax` picks, among the syntaxes the receiver accepted for the SOP class, one we can
produce from the stored one, and :func:`encode` produces it:

- any stored syntax -> Explicit VR Little Endian, Implicit VR Little Endian, Deflated Explicit VR Little
  Endian or Explicit VR Big Endian: compressed pixel data is decoded (pydicom with the pylibjpeg /
  pyjpegls plugins), big endian OW/OF/OL/OD/OV values are byte-swapped (pydicom does not convert
  endianness), the data set is re-encoded by pydicom (and deflated for the deflated syntax);
- uncompressed or lossless stored data -> RLE Lossless, JPEG-LS Lossless or JPEG 2000 Lossless when
  pydicom has an encoder for it and the receiver accepts nothing uncompressed. Lossy syntaxes are never
  produced: a lossy copy is made only by the modality that acquired it.

The SOP Instance UID never changes (PS3.5 A.4 note: a lossless or decoding change of transfer syntax is
the same instance). No sockets here; the network layer sends the bytes.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.pixels.encoders import JPEG2000LosslessEncoder, JPEGLSLosslessEncoder, RLELosslessEncoder
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

#: Uncompressed targets in our order of preference (the retired big endian syntax last).
NATIVE_TARGETS = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian)
#: Lossless compressed targets and their pydicom encoders (used only when nothing uncompressed is accepted).
LOSSLESS_ENCODERS = {
    RLELossless: RLELosslessEncoder,
    JPEGLSLossless: JPEGLSLosslessEncoder,
    JPEG2000Lossless: JPEG2000LosslessEncoder,
}
#: VRs whose values are byte strings of multi-byte words (swapped between little and big endian).
WORD_SIZES = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
PIXEL_DATA = 0x7FE00010


class TranscodeError(Exception):
    """The instance cannot be produced in the wanted transfer syntax (no codec, undecodable data)."""


def choose_syntax(stored: str, accepted: Iterable[str]) -> str | None:
    """Return the transfer syntax to send an instance stored in `stored` to a receiver, or None.

    Parameters
    ----------
    stored : str
        Transfer Syntax UID of the stored instance.
    accepted : iterable of str
        The transfer syntaxes of the receiver's accepted presentation contexts for the SOP class.

    Returns
    -------
    str or None
        `stored` itself when accepted; else the first of :data:`NATIVE_TARGETS` accepted; else a lossless
        syntax of :data:`LOSSLESS_ENCODERS` with an installed encoder; None when nothing fits.
    """
    accepted = [str(uid) for uid in accepted]
    if str(stored) in accepted:
        return str(stored)
    for syntax in NATIVE_TARGETS:
        if syntax in accepted:
            return syntax
    for syntax, encoder in LOSSLESS_ENCODERS.items():
        if syntax in accepted and encoder.is_available:
            return syntax
    return None


def encode_file(path: str | os.PathLike, target: str) -> bytes:
    """Read the Part 10 file at `path` and return its data set encoded in `target` (no File Meta).

    Raises
    ------
    TranscodeError
        Decoding or encoding failed; the message says why.
    """
    try:
        ds = dcmread(os.fspath(path))
    except Exception as exc:
        raise TranscodeError(f"cannot read {os.fspath(path)}: {exc}") from exc
    return encode(ds, target)


def encode(ds: Dataset, target: str) -> bytes:
    """Return `ds` (read from a file or built in memory, with File Meta) encoded in `target`.

    `ds` is modified (decoded, swapped); pass a copy to keep it.

    Raises
    ------
    TranscodeError
        No codec for the stored pixel data or for `target`, or pydicom cannot encode the data set.
    """
    target = UID(target)
    try:
        if target == ds.file_meta.TransferSyntaxUID:  # nothing to transcode: written as it is
            return _write(ds, target)
        _to_native_little_endian(ds)
        if target in LOSSLESS_ENCODERS:
            ds.compress(target, generate_instance_uid=False)
        elif not target.is_little_endian:
            _swap_words(ds)
        return _write(ds, target)
    except TranscodeError:
        raise
    except Exception as exc:
        raise TranscodeError(f"cannot encode as {target.name}: {exc}") from exc


def _to_native_little_endian(ds: Dataset) -> None:
    """Decode compressed pixel data or swap big endian words: `ds` becomes native little endian."""
    source = UID(ds.file_meta.TransferSyntaxUID)
    for _elem in ds.iterall():  # every element decoded from its original encoding now
        pass
    if source.is_compressed and not source.is_deflated:
        if PIXEL_DATA in ds:
            try:
                ds.decompress(generate_instance_uid=False)
            except Exception as exc:
                raise TranscodeError(f"cannot decode {source.name} pixel data: {exc}") from exc
    elif not source.is_little_endian:
        _swap_words(ds)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.set_original_encoding(False, True, ds.get("SpecificCharacterSet"))


def _swap_words(ds: Dataset) -> None:
    """Byte-swap every OW/OF/OL/OD/OV value of `ds` (nested too): little <-> big endian.

    Pixel Data words are Bits Allocated wide when that exceeds 16 (as pydicom reads them); other OW
    values are 16-bit words (PS3.5 7.3).
    """
    pixel_unit = max(2, int(ds.get("BitsAllocated", 16) or 16) // 8)
    for elem in ds.iterall():
        size = WORD_SIZES.get(str(elem.VR))
        if not size or not isinstance(elem.value, (bytes, bytearray)) or not elem.value:
            continue
        if elem.tag == PIXEL_DATA and elem.VR == "OW":
            size = pixel_unit
        data = bytes(elem.value)
        usable = len(data) - len(data) % size
        words = np.frombuffer(data[:usable], dtype=f"<u{size}").byteswap().tobytes()
        elem.value = words + data[usable:]


def _write(ds: Dataset, target: UID) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_implicit_VR = target.is_implicit_VR
    buffer.is_little_endian = target.is_little_endian
    ds.file_meta.TransferSyntaxUID = target
    write_dataset(buffer, ds)
    data = buffer.getvalue()
    if target.is_deflated:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS)
        data = compressor.compress(data) + compressor.flush()
        data += b"\x00" if len(data) % 2 else b""
    return data
