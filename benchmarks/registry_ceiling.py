"""What the layout changes schema 8 left out would save (issue 14), measured on a
copy of a registry: each step rebuilt by hand in SQL (not a migration firetrace
has; the copy is no registry afterwards), VACUUMed, then sized by ``dbstat``.

    python benchmarks/registry_ceiling.py REGISTRY.db COPY.db

Prints the copy as built (VACUUMed: the baseline) and after each step, in bytes
a component per part and as a ratio to the baseline: 1. the event kind as a
code, the date as a day number, the content key held once (a WITHOUT ROWID table
of key and event id; schema 9 does this, so the step is skipped on a registry
of schema 9 or later); 2. the component kind as a code and the description by
reference to a table of the distinct descriptions (schema 10 does the latter:
on a registry of schema 10 or later only the kind is coded); 3. (arithmetic) 8-byte seal
fingerprints instead of 12.
"""

import shutil
import sqlite3
import sys
import time

src, work = sys.argv[1], sys.argv[2]
shutil.copyfile(src, work)
c = sqlite3.connect(work, isolation_level=None)
c.execute("PRAGMA journal_mode=DELETE")
n = c.execute("select count(*) from components").fetchone()[0]

baseline = []


def report(label):
    t = time.time()
    c.execute("VACUUM")
    total = (
        c.execute("pragma page_count").fetchone()[0] * c.execute("pragma page_size").fetchone()[0]
    )
    parts = dict(c.execute("select name, sum(pgsize) from dbstat group by name"))
    groups = {
        "events": ["events", "event_rows", "event_kinds", "sqlite_autoindex_event_kinds_1"],
        "event idx": [
            "events_row_key",
            "events_component",
            "events_status",
            "events_corrects",
            "event_keys",
        ],
        "components": [
            "components",
            "component_rows",
            "descriptions",
            "descriptions_fields",
            "kinds",
            "sqlite_autoindex_descriptions_1",
            "sqlite_autoindex_kinds_1",
        ],
        "serial idx": ["components_serial_fold", "components_skel", "serial_suffixes"],
        "seals": ["seals", "seals_frontier", "seals_audit"],
        "parties": ["parties", "party_names", "sqlite_autoindex_parties_1"],
        "firearms": ["firearms", "sqlite_autoindex_firearms_1"],
        "assemblies": ["assemblies", "sqlite_autoindex_assemblies_1", "assemblies_component"],
    }
    out = []
    for g, names in groups.items():
        out.append(f"{g} {sum(parts.pop(x, 0) for x in names) / n:.1f}")
    out.append(f"other {sum(parts.values()) / n:.1f}")
    baseline.append(total)
    print(
        f"{label}: {total / n:.0f} B a component ({total / 1e6:.0f} MB, {n:,} components, "
        f"{total / baseline[0]:.2f}x as built; vacuum {time.time() - t:.0f} s)\n   "
        + ", ".join(out),
        flush=True,
    )


report("as built, VACUUMed")

# 1. events: kind as a code, date as a day number, the content key once (what
# schema 9 does; skipped on a registry of schema 9 or later)
stored = c.execute("SELECT 1 FROM sqlite_master WHERE name = 'event_rows'").fetchone()
if stored:
    print("1. events: kind code, day number, content key once: schema 9 has it (as built)")
else:
    c.execute("BEGIN")
    c.execute("CREATE TABLE event_kinds (code INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    c.execute("INSERT INTO event_kinds (name) SELECT DISTINCT event FROM events ORDER BY event")
    c.execute(
        "CREATE TABLE event_rows (id INTEGER PRIMARY KEY, component_id INTEGER NOT NULL, "
        "firearm_id INTEGER, kind INTEGER NOT NULL, day INTEGER NOT NULL, party_id INTEGER, "
        "party_licence TEXT, party_country TEXT, reference TEXT, notes TEXT, corrects INTEGER, "
        "batch_id INTEGER, line INTEGER)"
    )
    c.execute(
        "INSERT INTO event_rows SELECT e.id, component_id, firearm_id, k.code, "
        "CAST(julianday(event_date) - 2440588 AS INTEGER), party_id, party_licence, "
        "party_country, reference, notes, corrects, batch_id, line "
        "FROM events e JOIN event_kinds k ON k.name = e.event ORDER BY e.id"
    )
    c.execute(
        "CREATE TABLE event_keys (row_key BLOB PRIMARY KEY, event_id INTEGER NOT NULL) "
        "WITHOUT ROWID"
    )
    c.execute("INSERT INTO event_keys SELECT row_key, id FROM events ORDER BY row_key")
    c.execute("DROP TABLE events")
    c.execute("CREATE INDEX events_component ON event_rows(component_id)")
    c.execute("CREATE INDEX events_corrects ON event_rows(corrects) WHERE corrects IS NOT NULL")
    c.execute("COMMIT")
    report("1. events: kind code, day number, content key once")

# 2. components: kind as a code and the description by reference (schema 10
# has the description by reference: then only the kind is coded)
by_reference = c.execute("SELECT 1 FROM sqlite_master WHERE name = 'descriptions'").fetchone()
if by_reference:
    c.execute("BEGIN")
    c.execute("CREATE TABLE kinds (code INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    c.execute("INSERT INTO kinds (name) SELECT DISTINCT kind FROM component_rows ORDER BY kind")
    columns = [r[1] for r in c.execute("PRAGMA table_info(component_rows)")]
    c.execute("DROP VIEW components")
    c.execute(
        "CREATE TABLE component_rows2 AS SELECT "
        + ", ".join("k.code AS kind" if x == "kind" else f"c.{x} AS {x}" for x in columns)
        + " FROM component_rows c JOIN kinds k ON k.name = c.kind ORDER BY c.id"
    )
    c.execute("DROP TABLE component_rows")
    c.execute("ALTER TABLE component_rows2 RENAME TO component_rows")
    # The serial indexes as they were (the generated columns, as expressions).
    fold = "coalesce(serial_fold_stored, coalesce(serial_norm_stored, serial))"
    c.execute(f"CREATE INDEX components_serial_fold ON component_rows({fold})")
    c.execute(
        "CREATE INDEX components_skel ON component_rows(serial_skel_stored, maker_id) "
        "WHERE serial_skel_stored IS NOT NULL"
    )
    c.execute("COMMIT")
    report("2. components: description by reference (schema 10 has it), + kind code")
    sys.exit(0)
DESCRIPTION = (
    "type, model, calibre, country_of_manufacture, year_of_manufacture, import_country, import_year"
)
c.execute("BEGIN")
c.execute(
    "CREATE TABLE descriptions (id INTEGER PRIMARY KEY, type TEXT, model TEXT, calibre TEXT, "
    "country_of_manufacture TEXT, year_of_manufacture INTEGER, import_country TEXT, "
    f"import_year INTEGER, UNIQUE ({DESCRIPTION}))"
)
c.execute(f"INSERT INTO descriptions ({DESCRIPTION}) SELECT DISTINCT {DESCRIPTION} FROM components")
c.execute("CREATE TABLE kinds (code INTEGER PRIMARY KEY, name TEXT UNIQUE)")
c.execute("INSERT INTO kinds (name) SELECT DISTINCT kind FROM components ORDER BY kind")
c.execute(
    "CREATE TABLE components2 (id INTEGER PRIMARY KEY, maker_id INTEGER NOT NULL, "
    "kind INTEGER NOT NULL, control INTEGER NOT NULL, serial TEXT NOT NULL, "
    "serial_norm_stored TEXT, serial_fold_stored TEXT, serial_skel_stored TEXT, "
    "description_id INTEGER, batch_id INTEGER, "
    "serial_norm TEXT GENERATED ALWAYS AS (coalesce(serial_norm_stored, serial)) VIRTUAL, "
    "serial_fold TEXT GENERATED ALWAYS AS (coalesce(serial_fold_stored, serial_norm)) VIRTUAL)"
)
same = " AND ".join(f"x.{k} IS c.{k}" for k in DESCRIPTION.split(", "))
STORED = "serial_norm_stored, serial_fold_stored, serial_skel_stored"
c.execute(
    f"INSERT INTO components2 (id, maker_id, kind, control, serial, {STORED}, description_id, "
    "batch_id) SELECT c.id, c.maker_id, k.code, c.control, c.serial, c.serial_norm_stored, "
    f"c.serial_fold_stored, c.serial_skel_stored, (SELECT x.id FROM descriptions x WHERE {same}), "
    "c.batch_id FROM components c JOIN kinds k ON k.name = c.kind ORDER BY c.id"
)
c.execute("DROP TABLE components")
c.execute("ALTER TABLE components2 RENAME TO components")
c.execute("CREATE INDEX components_serial_fold ON components(serial_fold)")
c.execute("COMMIT")
report("2. + components: kind code, description by reference")

(seals,) = c.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'seals%'").fetchone()
print(
    f"3. + 8-byte seal fingerprints instead of 12: seals {seals / n:.1f} -> "
    f"{seals / n * 8 / 12:.1f} B a component (arithmetic)"
)
