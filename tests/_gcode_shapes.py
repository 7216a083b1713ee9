"""The procedural G-code shapes of samples/toolpaths.py, importable by the tests."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "firetrace_toolpaths", Path(__file__).resolve().parents[1] / "samples" / "toolpaths.py"
)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)

DIALECTS = _module.DIALECTS
plate_gcode = _module.plate_gcode
tube_gcode = _module.tube_gcode
