"""Length units: the scale to millimetres of a declared unit, and, for formats
that declare none (STL, OBJ, PLY, OFF, glTF), an inference from the object's
size using the ``[units]`` section of the rules (a part whose longest side is
under a few units is far more likely drawn in inches or metres than a
two-millimetre firearm part). The record always says whether units were
declared or inferred, so the examiner can discount the inference.
"""

from __future__ import annotations

from typing import Any

SCALE_TO_MM = {"micron": 0.001, "mm": 1.0, "cm": 10.0, "m": 1000.0, "inch": 25.4, "foot": 304.8}


def resolve_units(declared: str | None, longest: float, settings: dict[str, Any]) -> dict[str, Any]:
    """{unit, scale_to_mm, source: declared|inferred|default, reason}."""
    if declared in SCALE_TO_MM:
        return {"unit": declared, "scale_to_mm": SCALE_TO_MM[declared], "source": "declared"}
    for candidate in settings.get("candidates", []):
        low, high = candidate.get("longest_side", [0.0, float("inf")])
        if low <= longest < high:
            unit = candidate["unit"]
            return {
                "unit": unit,
                "scale_to_mm": SCALE_TO_MM.get(unit, 1.0),
                "source": "inferred",
                "reason": f"largest box side {longest:.4g} units is in [{low:g}, {high:g})",
            }
    return {"unit": "mm", "scale_to_mm": 1.0, "source": "default"}
