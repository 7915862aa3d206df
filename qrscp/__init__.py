"""qrscp: a DICOM Query/Retrieve archive serving Supplement 157 CLASSIC and ENHANCED views."""

__version__ = "0.1.0"

#: Implementation Class UID of qrscp (a UUID-derived UID, PS3.5 B.2).
IMPLEMENTATION_CLASS_UID = "2.25.305128432417212932390432216180212542463"
#: Implementation Version Name sent in A-ASSOCIATE and File Meta (max 16 chars).
IMPLEMENTATION_VERSION_NAME = "QRSCP_010"
