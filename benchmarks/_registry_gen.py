"""Generator of realistic registry record batches for benchmarks (and for tests
that need a big batch, such as the SIGKILL test).

``write_batch(path, rows)`` streams a CSV with the CONTRACT columns: many makers
written with alias spellings, sequential serials per maker made in production
runs (a run of consecutive serials is one model, and manufacture dates rise
with the serial number over 2000-2024, so a run sits in one or two years),
pistols, rifles,
AR-pattern lower/upper receivers and modular pistols with serialised fire
control units whose barrels move between frames, sales, transfers to
(pseudonymised) owners, imports with import marks, and lost/stolen reports,
recoveries, seizures, exports and destructions. Deterministic for a seed.
Memory stays flat: rows are written as they are made.
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

COLUMNS = (
    "manufacturer,serial,component,control,firearm,type,model,calibre,country_of_manufacture,"
    "year_of_manufacture,import_country,import_year,event,event_date,party,party_licence,"
    "party_country,reference,notes"
).split(",")

# (spellings as clerks write them, country, serial prefix, models: (type, model, calibre, kind))
MAKERS = [
    (
        ["GLOCK GmbH", "Glock", "Glock Ges.m.b.H."],
        "AT",
        "BK",
        [("pistol", "G17", "9mm Luger", "frame"), ("pistol", "G19", "9x19mm", "frame")],
    ),
    (
        ["SIG Sauer GmbH & Co. KG", "SIG SAUER", "Sig Sauer Inc."],
        "DE",
        "58",
        [
            ("pistol", "P320", "9mm Luger", "fire_control_unit"),
            ("pistol", "P226", "9x19mm", "frame"),
        ],
    ),
    (
        ["Beretta", "Fabbrica d'Armi Pietro Beretta S.p.A."],
        "IT",
        "L",
        [("pistol", "92FS", "9mm Parabellum", "frame"), ("shotgun", "A400", "12 ga", "receiver")],
    ),
    (
        ["Česká zbrojovka a.s.", "CZ", "CZUB"],
        "CZ",
        "F",
        [("pistol", "CZ 75 B", "9mm Luger", "frame"), ("rifle", "CZ 457", ".22 LR", "receiver")],
    ),
    (
        ["Heckler & Koch GmbH", "H&K"],
        "DE",
        "LR",
        [("rifle", "HK416", "5.56 NATO", "lower_receiver"), ("pistol", "SFP9", "9mm", "frame")],
    ),
    (
        ["Smith & Wesson Inc.", "S&W"],
        "US",
        "DL",
        [
            ("revolver", "686", ".357 Magnum", "frame"),
            ("rifle", "M&P15", ".223 Rem", "lower_receiver"),
        ],
    ),
    (
        ["Sturm, Ruger & Co., Inc.", "Ruger"],
        "US",
        "54",
        [("revolver", "GP100", ".357 Mag", "frame"), ("rifle", "10/22", ".22 LR", "receiver")],
    ),
    (
        ["FN Herstal SA", "FN", "FNH USA"],
        "BE",
        "FN",
        [
            ("pistol", "FN 509", "9x19mm", "fire_control_unit"),
            ("rifle", "SCAR 16S", "5.56x45mm", "receiver"),
        ],
    ),
    (["Walther", "Carl Walther GmbH"], "DE", "WK", [("pistol", "PDP", "9mm Luger", "frame")]),
    (
        ["Steyr Arms", "Steyr Mannlicher GmbH"],
        "AT",
        "ST",
        [("rifle", "AUG A3", "5.56 NATO", "receiver")],
    ),
    (["HS Produkt d.o.o.", "HS"], "HR", "HS", [("pistol", "SF19", "9mm Luger", "frame")]),
    (["Zastava Arms", "Zastava"], "RS", "ZA", [("rifle", "M70", "7.62x39", "receiver")]),
    (
        ["Tanfoglio", "Fratelli Tanfoglio Snc"],
        "IT",
        "T",
        [("pistol", "Stock II", "9x19mm", "frame")],
    ),
    (["Browning", "Browning Arms Company"], "BE", "BR", [("shotgun", "B525", "12/70", "receiver")]),
]
# Lesser makers: generic names, so the party table has many makers.
MAKERS += [
    (
        [f"Armeria {name} S.r.l.", f"Armeria {name}"],
        country,
        f"A{i}",
        [("rifle", f"M{i}", ".308 Win", "receiver")],
    )
    for i, (name, country) in enumerate(
        [
            ("Nord", "IT"),
            ("Sud", "IT"),
            ("Alpina", "AT"),
            ("Baltica", "LT"),
            ("Iberica", "ES"),
            ("Helvetia", "CH"),
            ("Nordic", "FI"),
            ("Danubia", "HU"),
            ("Carpathia", "RO"),
            ("Vistula", "PL"),
            ("Adriatica", "SI"),
            ("Tatra", "SK"),
            ("Rhein", "DE"),
            ("Thames", "GB"),
            ("Seine", "FR"),
            ("Douro", "PT"),
            ("Elbe", "CZ"),
            ("Oder", "PL"),
            ("Maas", "NL"),
            ("Vardar", "MK"),
        ]
    )
]
DEALERS = [
    (f"Waffenhandel {n} GmbH", f"DE-WH-{1000 + i}", "DE")
    for i, n in enumerate(
        ["Nordlicht", "Heide", "Harz", "Eifel", "Allgäu", "Spreewald", "Rhön", "Taunus"]
    )
]
DEALERS += [
    (f"Armurerie {n} SARL", f"FR-AR-{200 + i}", "FR")
    for i, n in enumerate(["Loire", "Rhône", "Jura"])
]
AGENCIES = [
    ("Polizei Hamburg", "DE"),
    ("Polizei Lüneburg", "DE"),
    ("Police nationale", "FR"),
    ("Bundeskriminalamt", "AT"),
    ("Policie ČR", "CZ"),
]
IMPORT_COUNTRIES = ["DE", "FR", "NL", "BE", "PL", "SE"]


class _Writer:
    def __init__(self, fh, limit: int):
        self.writer = csv.writer(fh, lineterminator="\n")
        self.writer.writerow(COLUMNS)
        self.limit = limit
        self.count = 0

    def row(self, **values) -> bool:
        if self.count >= self.limit:
            return False
        self.writer.writerow([values.get(c, "") for c in COLUMNS])
        self.count += 1
        return True


def _status_row(out, control: dict, later, event: str, reference: str | None, who: dict):
    """One status event on a control component, dated later than the last."""
    extra = {"reference": reference} if reference else {}
    out.row(**control, event=event, event_date=later().isoformat(), **who, **extra)


def write_batch(
    path: str | Path, rows: int, *, seed: int = 0, serial_offset: int = 0, lifecycle: bool = True
) -> int:
    """Write a batch of exactly ``rows`` rows to ``path``; return the row count.

    ``lifecycle=False`` writes manufacture rows only (one row per component), to
    fill a registry with many components quickly.
    """
    rng = random.Random(seed)
    next_serial = [serial_offset] * len(MAKERS)
    # Production runs: each maker makes one model for a run of consecutive serials,
    # and its serials are given out in date order over the span.
    run_left = [0] * len(MAKERS)
    run_model = [0] * len(MAKERS)
    per_firearm_rows = 2.6 if lifecycle else 1.3
    per_maker = max(1.0, rows / per_firearm_rows / len(MAKERS))
    owner_counter = serial_offset
    last_modular_key: str | None = None
    epoch = date(2000, 1, 1)
    span = (date(2024, 6, 30) - epoch).days
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = _Writer(fh, rows)
        firearm_number = 0
        while out.count < rows:
            firearm_number += 1
            m = rng.randrange(len(MAKERS))
            spellings, country, prefix, models = MAKERS[m]
            if run_left[m] == 0:
                run_left[m] = rng.randrange(50, 2000)
                run_model[m] = rng.randrange(len(models))
            run_left[m] -= 1
            ftype, model, calibre, kind = models[run_model[m]]
            next_serial[m] += 1
            serial = f"{prefix}{next_serial[m]:07d}"
            key = f"F{seed}-{firearm_number}"
            position = (next_serial[m] - serial_offset) / per_maker
            made = epoch + timedelta(days=min(span - 400, int(position * (span - 400))))
            maker = spellings[rng.randrange(len(spellings))]
            base = {"manufacturer": maker, "serial": serial, "component": kind, "firearm": key}
            out.row(
                **base,
                type=ftype,
                model=model,
                calibre=calibre,
                country_of_manufacture=country,
                year_of_manufacture=made.year,
                event="manufactured",
                event_date=made.isoformat(),
                party=spellings[0],
                party_country=country,
                reference=f"WO-{made:%Y%m%d}-{m}",
            )
            parts = []
            if kind in ("fire_control_unit", "lower_receiver") or rng.random() < 0.15:
                parts.append(("barrel", f"B{serial}"))
                parts.append(
                    ("upper_receiver" if kind == "lower_receiver" else "slide", f"S{serial}")
                )
            for part_kind, part_serial in parts:
                out.row(
                    manufacturer=maker,
                    serial=part_serial,
                    component=part_kind,
                    control="no",
                    firearm=key,
                    type=ftype,
                    model=model,
                    calibre=calibre,
                    country_of_manufacture=country,
                    year_of_manufacture=made.year,
                    event="manufactured",
                    event_date=made.isoformat(),
                    party=spellings[0],
                )
            if not lifecycle:
                continue
            day = made
            control = {"manufacturer": maker, "serial": serial, "component": kind}

            def later(max_days: int = 700) -> date:
                nonlocal day
                day = min(day + timedelta(days=1 + rng.randrange(max_days)), date(2025, 12, 31))
                return day

            if country not in IMPORT_COUNTRIES and rng.random() < 0.3:
                importer = DEALERS[rng.randrange(len(DEALERS))]
                when = later(200)
                out.row(
                    **control,
                    event="imported",
                    event_date=when.isoformat(),
                    import_country=importer[2],
                    import_year=when.year,
                    party=importer[0],
                    party_licence=importer[1],
                    party_country=importer[2],
                    reference=f"CUSTOMS-{when.year}-{firearm_number}",
                )
            if rng.random() < 0.85:
                dealer = DEALERS[rng.randrange(len(DEALERS))]
                out.row(
                    **control,
                    event="sold",
                    event_date=later().isoformat(),
                    party=dealer[0],
                    party_licence=dealer[1],
                    party_country=dealer[2],
                    reference=f"INV-{firearm_number}",
                )
                for _ in range(rng.choice((0, 1, 1, 1, 2))):
                    owner_counter += 1
                    out.row(
                        **control,
                        event="transferred",
                        event_date=later().isoformat(),
                        party=f"Owner {owner_counter} (pseudonymised)",
                        party_licence=f"WBK-{owner_counter}",
                        party_country=dealer[2],
                        reference=f"WBK-{owner_counter}",
                    )
            if parts and parts[0][0] == "barrel" and last_modular_key and rng.random() < 0.3:
                # The barrel moves to the previous modular firearm in the batch.
                when = later(300).isoformat()
                barrel = {
                    "manufacturer": maker,
                    "serial": parts[0][1],
                    "component": "barrel",
                    "control": "no",
                }
                out.row(
                    **barrel,
                    firearm=key,
                    event="disassembled",
                    event_date=when,
                    notes="barrel swapped",
                )
                out.row(
                    **barrel,
                    firearm=last_modular_key,
                    event="assembled",
                    event_date=when,
                    notes="barrel swapped",
                )
            if parts and parts[0][0] == "barrel":
                last_modular_key = key
            roll = rng.random()
            agency = AGENCIES[rng.randrange(len(AGENCIES))]

            police = {"party": agency[0], "party_country": agency[1]}

            if roll < 0.03:
                _status_row(out, control, later, "reported_stolen", f"POL-{firearm_number}", police)
                if rng.random() < 0.3:
                    _status_row(out, control, later, "recovered", f"POL-{firearm_number}", police)
            elif roll < 0.04:
                _status_row(out, control, later, "reported_lost", f"POL-{firearm_number}", police)
            elif roll < 0.05:
                _status_row(out, control, later, "seized", f"STA-{firearm_number}", police)
            elif roll < 0.07:
                _status_row(out, control, later, "exported", f"EXP-{firearm_number}", {})
            elif roll < 0.075:
                _status_row(out, control, later, "destroyed", None, police)
    return out.count


if __name__ == "__main__":
    count = write_batch(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)
    print(f"wrote {count} rows to {sys.argv[1]}")
