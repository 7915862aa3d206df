"""The DICOM codec: what reads, checks, builds and writes encoded DICOM, and the only code that touches
pydicom's private state.

Storage, conversion and the network layer import it; it imports none of them.

- :mod:`~qrscp.dicom.tags`: shared tag objects, keyword look-up, the tags and VRs of the encoding.
- :mod:`~qrscp.dicom.datasets`: pydicom data sets made without their constructors' set-up, and the
  accessors of a data set's elements.
- :mod:`~qrscp.dicom.elements`: elements made, copied and moved between data sets.
- :mod:`~qrscp.dicom.values`: values read without pydicom's conversion; comparison keys of attributes.
- :mod:`~qrscp.dicom.reader`: a fast reader of Explicit VR Little Endian files and data sets.
- :mod:`~qrscp.dicom.encoder`: a fast Explicit VR Little Endian encoder of data sets.
- :mod:`~qrscp.dicom.structure`: the structural check of an encoded data set; deflate and inflate.
- :mod:`~qrscp.dicom.flat`: a flat data set (C-FIND identifiers, command sets) encoded without pydicom's writer.
- :mod:`~qrscp.dicom.part10`: Part 10 framing: File Meta Information built, encoded and read.
"""
