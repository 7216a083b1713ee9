"""A large synthetic registry for the serial benchmarks, written with direct SQL.

Realistic serial structure rather than one counter per maker: 40 makers (one
more per 25,000 records beyond 1 million), each
with one to three marking formats (two-letter prefix + 7 digits, letter + 6
digits, digits with a year letter stamped between them, 8 digits with leading
zeros, a letter suffix, a dash); a national registry holds each maker's
production as dealer shipments, i.e. runs of consecutive serials (geometric
length, mean 6) scattered over the serial space, and four small makers whose
whole production is registered as one dense sequential range. As at a real
maker, the year of manufacture follows the serial number (numbers are given out
in order over 1985-2023) and the model changes by band of numbers (one to three
models per marking format, each with its calibre); the country is the maker's.
The serial index triggers are dropped during the bulk load and the index is
rebuilt in sorted order afterwards (much faster than row-by-row maintenance).
Deterministic for a seed.
"""

from __future__ import annotations

import random
import string
import time
from pathlib import Path

# Letters used as stamped codes: none of them looks like a digit.
CODE_LETTERS = "ACEFHJKMNPRUWXY"
FORMATS = ("PP#######", "P######", "###L####", "########", "PP######X", "##-#####")
KINDS = ("frame", "receiver", "lower_receiver", "fire_control_unit")
TYPES = ("pistol", "rifle", "revolver", "shotgun")
# As the importer stores them (canonical names from rules/calibres.toml).
CALIBRES = (
    "9x19mm",
    ".45 ACP",
    "5.56x45mm NATO",
    "7.62x51mm NATO",
    "12 gauge",
    ".357 Magnum",
    ".22 LR",
)
COUNTRIES = ("AT", "DE", "IT", "CZ", "BE", "US", "HR", "RS", "ES", "FI", "PL", "SE")
FIRST_YEAR, YEARS = 1985, 39
# A model is made for this share of a format's number space before the next.
MODEL_BANDS = 40


def _maker_specs(rng: random.Random, count: int = 40):
    """``count`` makers; the registry size sets ``count`` so that each maker's
    serial space stays as sparse at 10 million records as at 1 million."""
    specs = []
    for i in range(count):
        prefix = "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
        formats = rng.sample(FORMATS, rng.choice((1, 1, 2, 3)))
        dense = i >= count - 4
        weight = 1.0 / (1 + i) ** 0.8
        specs.append((f"Maker {i:02d}", prefix, formats, dense, weight))
    return specs


def _render(fmt: str, prefix: str, number: int, code: str, suffix: str) -> str:
    digits = fmt.count("#")
    text = f"{number % 10**digits:0{digits}d}"
    out, k = [], 0
    for ch in fmt:
        if ch == "#":
            out.append(text[k])
            k += 1
        elif ch == "P":
            out.append(prefix[len([c for c in out if c.isalpha()]) % 2])
        elif ch == "L":
            out.append(code)
        elif ch == "X":
            out.append(suffix)
        else:
            out.append(ch)
    return "".join(out)


def makers_for(total: int) -> int:
    """40 makers up to 1 million records, then one more per 25,000 records (a
    national registry of 10 million firearms holds hundreds of makes)."""
    return max(40, total // 25_000)


def describe(m: int, fmt: str, number: int) -> tuple[str, str, int]:
    """(model, calibre, year) of maker ``m``'s serial ``number`` in format ``fmt``:
    the year rises with the number, the model changes by band of numbers."""
    digits = fmt.count("#")
    space = 10**digits
    models = 1 + (m + digits) % 3
    band = (number * MODEL_BANDS // space) % models
    model = f"M{m}{digits}{band}"
    return model, CALIBRES[(m + band) % len(CALIBRES)], FIRST_YEAR + number * YEARS // space


def generate_serials(total: int, seed: int = 7):
    """Yield (maker_index, serial, kind, type, model, calibre, year, country) for
    ``total`` records."""
    rng = random.Random(seed)
    specs = _maker_specs(rng, makers_for(total))
    weights = [s[4] for s in specs]
    budgets = [0] * len(specs)
    scale = total / sum(weights)
    for i, w in enumerate(weights):
        budgets[i] = int(w * scale)
    budgets[0] += total - sum(budgets)
    for m, (_name, prefix, formats, dense, _w) in enumerate(specs):
        per_format = [budgets[m] // len(formats)] * len(formats)
        per_format[0] += budgets[m] - sum(per_format)
        for fmt, n in zip(formats, per_format, strict=True):
            digits = fmt.count("#")
            kind = KINDS[m % len(KINDS)]
            ftype = TYPES[m % len(TYPES)]
            country = COUNTRIES[m % len(COUNTRIES)]
            seen: set[int] = set()
            made = 0
            while made < n:
                if dense:
                    start, length = 1 + len(seen), n
                else:
                    start = rng.randrange(1, 10**digits - 200)
                    length = min(int(rng.expovariate(1 / 6)) + 1, 200, n - made)
                code = rng.choice(CODE_LETTERS)
                suffix = rng.choice(CODE_LETTERS)
                for number in range(start, start + length):
                    if made >= n:
                        break
                    if number in seen:
                        continue
                    seen.add(number)
                    made += 1
                    model, calibre, year = describe(m, fmt, number)
                    serial = _render(fmt, prefix, number, code, suffix)
                    yield m, serial, kind, ftype, model, calibre, year, country


def build_registry(path: Path, total: int, *, seed: int = 7, index: bool = True) -> dict:
    """Create the registry at ``path`` with ``total`` control components."""
    from firetrace.registry.db import connect
    from firetrace.registry.serial_index import (
        SERIAL_COLUMNS,
        drop_index_triggers,
        rebuild_serial_index,
        restore_index_triggers,
        serial_columns,
    )

    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    conn = connect(path)
    conn.execute("PRAGMA cache_size = -400000")
    rng = random.Random(seed)
    specs = _maker_specs(rng, makers_for(total))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO parties (id, norm_name, name) VALUES (?, ?, ?)",
        [(i + 1, s[0].upper(), s[0]) for i, s in enumerate(specs)],
    )
    conn.execute("COMMIT")
    drop_index_triggers(conn)
    batch = []
    sql = (
        f"INSERT INTO components (maker_id, kind, control, {SERIAL_COLUMNS}, type, model, "
        "calibre, year_of_manufacture, country_of_manufacture) "
        "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    conn.execute("BEGIN")
    # One record per (maker, normalised serial): two formats can render the same
    # serial ('12-345678' and '12345678'); a registry would hold one item.
    maker, seen = None, set()
    for m, serial, kind, *description in generate_serials(total, seed):
        values = serial_columns(serial)
        norm = values[1] or values[0]
        if m != maker:
            maker, seen = m, set()
        if norm in seen:
            continue
        seen.add(norm)
        batch.append((m + 1, kind, *values, *description))
        if len(batch) >= 50_000:
            conn.executemany(sql, batch)
            batch.clear()
    conn.executemany(sql, batch)
    conn.execute("COMMIT")
    loaded = time.perf_counter() - t0
    if index:
        rebuild_serial_index(conn)
    restore_index_triggers(conn)
    (count,) = conn.execute("SELECT count(*) FROM components").fetchone()
    conn.close()
    return {"components": count, "load_s": loaded, "total_s": time.perf_counter() - t0}
