"""The network side of qrscp: the pynetdicom AE, DIMSE handlers, negotiation and access rules."""
