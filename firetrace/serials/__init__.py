"""Serial-number text, pure: normalising, folding look-alike characters and the
candidate keys a serial is indexed and looked up by. No SQL and no registry
here (imports point one way, ``registry -> serials``); the serial index, lookup
and duplicate finding over the registry live in :mod:`firetrace.registry`.
Knowledge lives in ``rules/serials.toml``."""
