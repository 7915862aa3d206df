"""The DICOM codec: reading, checking and writing data sets."""
