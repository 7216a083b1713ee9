"""Marks drawn into the report's pictures: the millimetre scale bar and its label.

A scale bar is what lets an examiner read a size off a picture, so it is drawn
into the image itself (it survives the picture being copied out of the report).
Its length is the largest 1-2-5 step that fits in about a third of the width,
and its label is written with a tiny built-in bitmap font (digits, the decimal
point and "mm"), so no font files or imaging library are needed.
"""

from __future__ import annotations

import math

import numpy as np

_GLYPH_ROWS = {
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    "m": (".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#"),
    " ": (".....",) * 7,
}
_GLYPHS = {
    char: np.array([[c == "#" for c in row] for row in rows], dtype=bool)
    for char, rows in _GLYPH_ROWS.items()
}
INK = np.array([30, 34, 40], dtype=np.uint8)


def nice_length(max_length: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``max_length``."""
    if not math.isfinite(max_length) or max_length <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(max_length))
    for step in (5.0, 2.0, 1.0):
        if step * power <= max_length:
            return step * power
    return power


def format_length(mm: float) -> str:
    """``12.5`` -> ``"12.5 mm"``, ``10.0`` -> ``"10 mm"``."""
    text = f"{mm:.6g}"
    if "e" in text:  # absurdly small or large: keep it readable anyway
        text = f"{mm:.3f}".rstrip("0").rstrip(".")
    return f"{text} mm"


def draw_text(image: np.ndarray, text: str, left: int, top: int, *, scale: int = 2) -> int:
    """Write ``text`` (digits, ".", "m", space) into ``image``; returns the right edge."""
    x = left
    height, width = image.shape[:2]
    for char in text:
        glyph = _GLYPHS.get(char, _GLYPHS[" "])
        big = np.kron(glyph, np.ones((scale, scale), dtype=bool))
        rows = slice(top, min(top + big.shape[0], height))
        cols = slice(x, min(x + big.shape[1], width))
        region = image[rows, cols]
        region[big[: region.shape[0], : region.shape[1]]] = INK
        x += (glyph.shape[1] + 1) * scale
    return x


def draw_scale_bar(image: np.ndarray, px_per_mm: float, *, margin: int = 10) -> float:
    """Draw a bar of a round number of millimetres in the lower left corner.

    Returns the bar length in millimetres (0 when nothing fits).
    """
    height, width = image.shape[:2]
    length_mm = nice_length(width * 0.34 / px_per_mm) if px_per_mm > 0 else 0.0
    if length_mm <= 0:
        return 0.0
    length_px = max(1, int(round(length_mm * px_per_mm)))
    base = height - margin
    left = margin
    image[base - 2 : base + 1, left : left + length_px] = INK
    for tick in (left, left + length_px - 1):
        image[base - 8 : base + 1, max(tick - 1, 0) : tick + 1] = INK
    draw_text(image, format_length(length_mm), left + length_px + 8, base - 13)
    return length_mm
