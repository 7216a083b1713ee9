"""The registry: an embedded SQLite store of parties, firearms, their components,
assemblies, append-only events and import batches (see :mod:`.db` for the schema)."""
