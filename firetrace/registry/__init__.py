"""The registry: an embedded SQLite store of parties, firearms, their components,
assemblies, append-only events and import batches (see :mod:`.db` for the schema),
with the serial index (:mod:`.serial_index`), candidate lookup (:mod:`.lookup`),
duplicate finding (:mod:`.dupes`) and trace built on the pure serial text of
:mod:`firetrace.serials`."""
