"""Test support shipped with the package: a DICOM data factory and helpers for external tools."""
