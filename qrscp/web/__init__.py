"""DICOMweb (PS3.18 QIDO-RS, WADO-RS, STOW-RS) and the study browser: an HTTP front end of the services.

Like ``qrscp.net`` for DIMSE, this package only translates HTTP to the services (query, retrieve,
storage, views) and back; it holds no matching, storage or conversion rules of its own.
"""
