"""firetrace: firearms marking, record-keeping and tracing, and detection of
3D-printable firearm design files on seized media.

The library is the product; :mod:`firetrace.cli` is a thin typer shell over it.
"""

__version__ = "0.1.0"
