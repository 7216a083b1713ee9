"""Serial-number intelligence: normalisation, look-alike folding, fuzzy and
wildcard lookup, and registry-wide duplicate detection. Knowledge lives in
``rules/serials.toml``."""
