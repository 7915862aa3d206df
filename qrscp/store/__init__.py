"""The file store: bit-preserving Part 10 files, written atomically (see :mod:`qrscp.store.filestore`)."""
