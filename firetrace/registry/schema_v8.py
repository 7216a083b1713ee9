"""Schema migration 8 (issue 14): a smaller file, nothing lost.

* ``party_names`` becomes a ``WITHOUT ROWID`` table holding only the spellings
  of a party besides the first one (``parties.name``): the first spelling was
  stored there twice more (a row and its unique index), about a quarter of what
  the parties cost. Every spelling is still there: ``parties.name`` plus
  ``party_names`` (:func:`firetrace.registry.parties.spellings`).
* ``components_serial_norm`` goes: a component's look-alike fold is a function
  of its normalised serial, so an exact lookup seeks the fold index and compares
  the norm (:func:`firetrace.registry.lookup.norm_seek`); 18 bytes a component.

Row seals written from here on hold 12 bytes of fingerprint a row instead of 16
(:mod:`firetrace.rowseals`; older seal rows keep theirs and verify by their
first 12 bytes). No sealed value changes: ``party_names`` was never sealed (a
text key), and an index is no row.
"""

SCHEMA_V8 = """
CREATE TABLE party_names_v8 (
    name TEXT PRIMARY KEY,                -- a spelling other than parties.name
    party_id INTEGER NOT NULL REFERENCES parties(id)
) WITHOUT ROWID;
INSERT INTO party_names_v8 (name, party_id)
    SELECT n.name, n.party_id FROM party_names n JOIN parties p ON p.id = n.party_id
    WHERE n.name <> p.name ORDER BY n.name;
DROP TABLE party_names;
ALTER TABLE party_names_v8 RENAME TO party_names;
DROP INDEX IF EXISTS components_serial_norm;
"""
