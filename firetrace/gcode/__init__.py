"""G-code read as what it prints.

- :mod:`.words`: the text to a table of words (letter, number, line), numpy over
  the whole buffer;
- :mod:`.parse`: the modal state machine (units, absolute/relative, G92, G28,
  arcs, firmware retraction) to straight moves in millimetres;
- :mod:`.markers`: slicer comments (features, objects, layers, header evidence);
- :mod:`.toolpath`: all of it read once into a :class:`~.toolpath.Toolpath`;
- :mod:`.rebuild`: each printed object's layers rebuilt into a watertight mesh;
- :mod:`.bgcode`: Prusa binary G-code blocks (metadata, thumbnails, G-code).

The detector (``firetrace.detect.readers.gcode``) and the report
(``firetrace.report.gcode``) both read G-code through :func:`read_toolpath`.
"""

from firetrace.gcode.toolpath import Toolpath, read_toolpath

__all__ = ["Toolpath", "read_toolpath"]
