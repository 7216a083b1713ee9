"""Held-out stand-in family B: crude procedural meshes for an honest detection evaluation.

Why a second family: the detection rules were tuned on family A
(``samples/generate.py``: axis-aligned boxes and cylinders with box and cylinder holes,
every feature parallel to a principal axis). Figures on family A grade the rules on
their own homework. Family B was written without reading the detection rules
(``rules/detect/``, ``firetrace/detect/features.py`` and ``rules.py`` were not opened
and no detector was run on it while it was built); its kinds and size ranges come
from a coarse description of the features a lab looks for, nothing else. Score it
once, with the rules frozen beforehand, and never tune a rule or threshold on it.

Construction (different from family A): every part is built with manifold3d's own
2-D and 3-D operations, never ``trimesh.creation`` boxes and cylinders:

* 2-D outlines (``CrossSection``): polygons with rounded corners (offsets), chamfers,
  tapers and non-rectangular silhouettes, extruded (sometimes with a tapered top);
* revolved profiles (stepped and tapered tubes, rings, collars);
* lofts as convex hulls of two different outlines, and hull-filled joints between
  members set at an angle (dog-legs);
* swept bends (a thin-walled box bent along its length by a vertex warp);
* sub-features (bores, loops, wells, pin rows, channels) placed at 0-30 degrees to one
  another and to the body's long axis, in proportions drawn independently of family A.

Nothing here is, or resembles in detail, a real or functional design. Positives share
only coarse features with printable firearm parts:

* ``revolved_tube``: a stepped, tapered revolved tube 80-320 mm long with a straight
  bore of 5-20 mm on its axis, sometimes a lug yawed 0-30 degrees on its side;
* ``drilled_prism``: a hexagonal, octagonal, rounded, chamfered or D-shaped prism
  90-260 mm long, tapered along its length, with an off-centre 5-20 mm bore;
* ``loop_silhouette``: an extruded side outline (a long member over a leg inclined
  10-25 degrees) 22-40 mm thick, with a finger loop of 18-35 mm, a well of about
  17-35 x 20-66 mm along the inclined leg (blind or through), and a row of 3-6 pin
  holes of 2.5-6 mm across the thickness on a line inclined 0-30 degrees, each hole
  leaning 0-12 degrees;
* ``slant_cavity_block``: a block lofted between two outlines, with a through-cavity of
  12-35 x 20-80 mm inclined 10-25 degrees and a pin row across its width;
* ``dogleg_bar``: two members joined at 10-30 degrees; one carries a through-well
  (itself tilted 0-15 degrees), the other a row of 3-6 pin holes across its width;
* ``channel_beam``: a tapered profile beam 150-300 mm long with a long internal
  channel open at one end and a 5-20 mm bore on the channel's axis through the other;
* ``shell_open``: a long thin-walled (1-3.5 mm) box 120-300 mm long, open at both
  ends, at one end or at the top, sometimes bent 3-15 degrees along its length;
* ``shell_closed``: the same proportions, lofted and closed all round (an inner void:
  the mesh has two nested shells).

Benign look-alikes, built the same ways, share one coarse feature each: a tool handle
with a hand slot, a pull ring, pipe fittings (elbows, tees, reducers) with short arms,
a cable duct, an electronics enclosure, a divided tray, brackets with hole rows, a
hinge leaf with its pin bore, bushings and wide pipes (calibre bore but short, or long
but a wide bore), shaft clamps, a dog-leg linkage arm with a hole row, and a hand-tool
casing (a solid handle inclined 10-25 degrees under a wide, short tube).

API (for ``benchmarks/detect_eval.py`` and the G-code slicing benchmark):
``POSITIVES`` and ``LOOKALIKES`` map kind names to builders ``rng -> trimesh.Trimesh``
(construction frame, long axis x); :func:`build` adds a random rigid pose;
:func:`sample` yields ``(group, kind, mesh)`` with one random stream per kind and
index, so adding a kind never changes the others' meshes. All meshes are watertight
and in millimetres.

Usage: ``python benchmarks/_standins_b.py [--count N] [--seed S] [--out DIR]`` prints a
table of the kinds with measured extents; ``--out`` also writes posed STL files.
"""

from __future__ import annotations

import argparse
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import trimesh
from manifold3d import CrossSection, JoinType, Manifold

SEGMENTS = 40  # segments on a full circle: round enough, few triangles
Builder = Callable[[np.random.Generator], trimesh.Trimesh]


# --- small geometry vocabulary ---------------------------------------------------------


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _signed(rng: np.random.Generator, low: float, high: float) -> float:
    """An angle between *low* and *high* degrees with a random sign."""
    return _u(rng, low, high) * (1 if rng.random() < 0.5 else -1)


def _turn(axis: str, degrees: float) -> np.ndarray:
    vector = {"x": (1, 0, 0), "y": (0, 1, 0), "z": (0, 0, 1)}[axis]
    return trimesh.transformations.rotation_matrix(np.radians(degrees), vector)


def _shift(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> np.ndarray:
    return trimesh.transformations.translation_matrix((x, y, z))


def _moved(solid: Manifold, *steps: np.ndarray) -> Manifold:
    """*solid* transformed by *steps*, the first applied first."""
    matrix = np.eye(4)
    for step in steps:
        matrix = step @ matrix
    return solid.transform(matrix[:3, :4])


def _polygon(points) -> CrossSection:
    """A cross-section from a simple polygon in either winding."""
    outline = np.asarray(points, dtype=float)
    x, y = outline[:, 0], outline[:, 1]
    if np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) < 0:
        outline = outline[::-1]
    return CrossSection([outline])


def _rounded_rect(width: float, height: float, radius: float) -> CrossSection:
    """A centred rectangle whose corners are arcs of *radius*."""
    radius = max(0.2, min(radius, width / 2 - 0.2, height / 2 - 0.2))
    core = CrossSection.square((width - 2 * radius, height - 2 * radius), center=True)
    return core.offset(radius, JoinType.Round, circular_segments=SEGMENTS)


def _chamfered_rect(width: float, height: float, chamfer: float) -> CrossSection:
    """A centred rectangle with its four corners cut at 45 degrees."""
    c = max(0.2, min(chamfer, width / 2 - 0.2, height / 2 - 0.2))
    w, h = width / 2, height / 2
    return _polygon(
        [(-w + c, -h), (w - c, -h), (w, -h + c), (w, h - c), (w - c, h), (-w + c, h), (-w, h - c)]
        + [(-w, -h + c)]
    )


def _regular_polygon(sides: int, circumradius: float) -> CrossSection:
    angles = np.linspace(0, 2 * np.pi, sides, endpoint=False) + np.pi / sides
    return _polygon(np.column_stack([np.cos(angles), np.sin(angles)]) * circumradius)


def _stadium(width: float, length: float) -> CrossSection:
    """A slot outline: *length* along x, *width* along y, round ends."""
    return _rounded_rect(length, width, width / 2 - 0.01)


def _fillet(outline: CrossSection, radius: float) -> CrossSection:
    """*outline* with its concave and convex corners rounded by *radius*."""
    closed = outline.offset(radius, JoinType.Round, circular_segments=SEGMENTS)
    closed = closed.offset(-radius, JoinType.Round, circular_segments=SEGMENTS)
    opened = closed.offset(-radius, JoinType.Round, circular_segments=SEGMENTS)
    # offsets can leave coincident points, which would become coincident vertices
    return opened.offset(radius, JoinType.Round, circular_segments=SEGMENTS).simplify(0.01)


def _prism(outline: CrossSection, length: float, **extrude) -> Manifold:
    """*outline* extruded along z, centred on z = 0."""
    return _moved(outline.extrude(length, **extrude), _shift(z=-length / 2))


def _along_x(solid: Manifold) -> Manifold:
    """A solid built along z turned to lie along x (its outline's u becomes -z)."""
    return _moved(solid, _turn("y", 90))


def _along_y(solid: Manifold) -> Manifold:
    """A solid built along z turned to stand along y (its outline's v becomes -z)."""
    return _moved(solid, _turn("x", -90))


def _rod(diameter: float, length: float) -> Manifold:
    """A centred round rod along z (a bore or pin-hole cutter)."""
    return Manifold.cylinder(length, diameter / 2, circular_segments=SEGMENTS, center=True)


def _revolved(profile) -> Manifold:
    """The solid swept by (radius, axial) *profile* points around z."""
    return _polygon(profile).revolve(circular_segments=SEGMENTS)


def _slab(outline: CrossSection, x: float) -> Manifold:
    """A paper-thin copy of *outline* standing across the x axis at *x* (loft station)."""
    return _moved(_along_x(_prism(outline, 0.05)), _shift(x=x))


def _loft(start: CrossSection, end: CrossSection, length: float) -> Manifold:
    """The convex loft from *start* at x = 0 to *end* at x = *length*."""
    return Manifold.batch_hull([_slab(start, 0.0), _slab(end, length)])


def _union(solids) -> Manifold:
    return Manifold.batch_boolean(list(solids), _op("Add"))


def _cut(body: Manifold, tools) -> Manifold:
    tools = list(tools)
    return body - _union(tools) if tools else body


def _op(name: str):
    from manifold3d import OpType

    return getattr(OpType, name)


def _pin_row(count, diameter, spacing, centre, row_degrees, length, tilt_degrees=0.0):
    """Cutters for *count* parallel holes across z, their centres spaced along a line
    through *centre* inclined *row_degrees* to x in the xy plane; each hole leans
    *tilt_degrees* about x."""
    direction = np.array([np.cos(np.radians(row_degrees)), np.sin(np.radians(row_degrees)), 0])
    steps = (np.arange(count) - (count - 1) / 2) * spacing
    centres = np.asarray(centre, dtype=float) + np.outer(steps, direction)
    hole = _moved(_rod(diameter, length), _turn("x", tilt_degrees))
    return [_moved(hole, _shift(*point)) for point in centres]


def _bend(solid: Manifold, length: float, arc_degrees: float) -> Manifold:
    """*solid*, lying along x from 0 to *length*, bent in the xy plane through *arc_degrees*."""
    radius = length / np.radians(arc_degrees)

    def warp(points: np.ndarray) -> np.ndarray:
        x, y, z = points[:, 0], points[:, 1], points[:, 2]
        angle = x / radius
        bent = np.column_stack(
            [(radius - y) * np.sin(angle), radius - (radius - y) * np.cos(angle), z]
        )
        return bent

    return solid.warp_batch(warp)


def _outline_choice(rng, width, height, kinds=("rounded", "chamfered")) -> CrossSection:
    kind = kinds[int(rng.integers(len(kinds)))]
    corner = _u(rng, 1.0, min(width, height) / 4)
    if kind == "rounded":
        return _rounded_rect(width, height, corner)
    return _chamfered_rect(width, height, corner)


def _mesh(solid: Manifold) -> trimesh.Trimesh:
    """A trimesh of *solid* (merged vertices, consistent winding)."""
    if solid.is_empty():
        raise ValueError("construction produced an empty solid")
    # booleans leave sub-micron slivers where surfaces cross at a shallow angle;
    # collapsing edges under 0.01 mm removes them and keeps the solid manifold
    raw = solid.simplify(0.01).to_mesh()
    # merged by position, as any reader of an STL file would see it
    return trimesh.Trimesh(
        vertices=np.asarray(raw.vert_properties)[:, :3], faces=np.asarray(raw.tri_verts)
    )


# --- positives ---------------------------------------------------------------------------


def revolved_tube(rng: np.random.Generator) -> trimesh.Trimesh:
    """A stepped, tapered revolved tube with a calibre-sized bore on its axis."""
    bore, length = _u(rng, 5, 20), _u(rng, 80, 320)
    end_radius = bore / 2 + _u(rng, 2.5, 9)
    start_radius = end_radius + _u(rng, 0.5, 10)
    mid_radius = end_radius + (start_radius - end_radius) * _u(rng, 0, 0.6)
    shoulder = length * _u(rng, 0.15, 0.5)
    profile = [
        (bore / 2, 0),
        (start_radius, 0),
        (start_radius, shoulder),
        (mid_radius, shoulder + (start_radius - mid_radius) + 0.5),
        (end_radius, length),
        (bore / 2, length),
    ]
    tube = _along_x(_revolved(profile))
    if rng.random() < 0.6:
        tube = tube + _side_lug(rng, end_radius, length)
    return _mesh(tube)


def _side_lug(rng, radius, tube_length) -> Manifold:
    """A rounded pad on a tube's outside, yawed 0-30 degrees about the radial direction;
    it sinks into the wall and never reaches the bore."""
    pad_length = _u(rng, 15, 50)
    footprint = _rounded_rect(pad_length, _u(rng, 8, 24), _u(rng, 1, 4))
    rise = _u(rng, 5, 14)
    pad = _along_y(_prism(footprint, rise + 1))
    position = _u(rng, 0.5, 1.0) * (tube_length - pad_length / 2 - 3)
    return _moved(pad, _turn("y", _signed(rng, 0, 30)), _shift(position, radius + rise / 2 - 1, 0))


def drilled_prism(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long tapered prism (hexagon, octagon, rounded, chamfered or D) with an
    off-centre calibre-sized bore along its length."""
    bore, length, wall = _u(rng, 5, 20), _u(rng, 90, 260), _u(rng, 2.5, 10)
    taper, slack = _u(rng, 0.8, 1.0), _u(rng, 0, 8)
    shape = ("hexagon", "octagon", "rounded", "chamfered", "d_shape")[int(rng.integers(5))]
    # the thinnest wall, at the narrow end with the bore off-centre by up to *slack*, is *wall*
    inscribed = (bore / 2 + wall + slack) / taper
    if shape in ("hexagon", "octagon"):
        sides = 6 if shape == "hexagon" else 8
        outline = _regular_polygon(sides, inscribed / np.cos(np.pi / sides))
    else:
        width, height = 2 * inscribed, 2 * inscribed * _u(rng, 1.0, 1.6)
        outline = _outline_choice(rng, width, height)
        if shape == "d_shape":
            outline = _rounded_rect(width, height, 1.5) + CrossSection.circle(
                inscribed, SEGMENTS
            ).translate((0, height / 2))
    offset = _u(rng, -1, 1) * slack
    block = _prism(outline, length, scale_top=(taper, taper))
    return _mesh(_along_x(block - _moved(_rod(bore, length + 4), _shift(y=offset))))


def loop_silhouette(rng: np.random.Generator) -> trimesh.Trimesh:
    """An extruded side outline: a long member over a leg inclined 10-25 degrees, with a
    finger loop ahead of the leg, a well along the leg and an inclined row of pin holes."""
    top_height, thick = _u(rng, 22, 40), _u(rng, 22, 40)
    leg_width, leg_length, lean = _u(rng, 32, 75), _u(rng, 70, 120), _u(rng, 10, 25)
    lean_run = np.tan(np.radians(lean))
    loop, rim = _u(rng, 18, 35), _u(rng, 4.5, 9)
    leg_x = _u(rng, 10, 35)
    lobe_end = leg_x + leg_width + loop + 2 * rim
    pins, pin_d = int(rng.integers(3, 7)), _u(rng, 2.5, 6)
    spacing = _u(rng, max(pin_d + 4, 7), 18)
    row_start = lobe_end + _u(rng, 6, 14)
    row_angle = _bounded_row_angle(rng, pins, spacing, top_height - pin_d - 7)
    length = row_start + (pins - 1) * spacing + _u(rng, 12, 60)

    top = _polygon(
        [(0, 0), (length, 0), (length, top_height * _u(rng, 0.5, 0.9))]
        + [(length - _u(rng, 5, 30), top_height), (0, top_height)]
    )
    leg = _polygon(
        [
            (leg_x + top_height / 2 * lean_run, top_height / 2),
            (leg_x - leg_length * lean_run, -leg_length),
            (leg_x + leg_width - leg_length * lean_run, -leg_length),
            (leg_x + leg_width + top_height / 2 * lean_run, top_height / 2),
        ]
    )
    lobe = _rounded_rect(loop + 2 * rim + 4, loop + 2 * rim + top_height / 2, 3).translate(
        (leg_x + leg_width + (loop + 2 * rim) / 2 - 2, -(loop + 2 * rim) / 2 + top_height / 4)
    )
    outline = _fillet(top + leg + lobe, _u(rng, 1.0, 2.0))
    body = _prism(outline, thick)

    loop_hole = _prism(_stadium(loop, loop * _u(rng, 1.0, 1.5)), thick + 10)
    loop_hole = _moved(loop_hole, _shift(leg_x + leg_width + rim + loop / 2, -(rim + loop / 2)))
    well = _leg_well(rng, thick, leg_width, leg_length, top_height, lean)
    well = _moved(well, _turn("z", -lean), _shift(leg_x + leg_width / 2, 0, 0))
    span = (pins - 1) * spacing
    row_centre = (row_start + span / 2 * np.cos(np.radians(row_angle)), top_height / 2, 0)
    row = _pin_row(
        pins, pin_d, spacing, row_centre, row_angle, thick * 1.5 + 10, _signed(rng, 0, 12)
    )
    return _mesh(_cut(body, [loop_hole, well, *row]))


def _bounded_row_angle(rng, pins, spacing, rise_allowed) -> float:
    """A row angle of 0-30 degrees, smaller where the row's rise would exceed
    *rise_allowed* (the usable height of the member it crosses)."""
    angle = _signed(rng, 0, 30)
    span = (pins - 1) * spacing
    if span * np.sin(np.radians(abs(angle))) > rise_allowed:
        limit = np.degrees(np.arcsin(min(1.0, max(0.0, rise_allowed) / span)))
        angle = float(np.sign(angle) * limit)
    return angle


def _leg_well(rng, thick, leg_width, leg_length, top_height, lean) -> Manifold:
    """A rounded-rectangle well along y (before the lean), open at the leg's foot,
    blind or through the member above."""
    across = _u(rng, 12, min(35, thick - 5))
    along = _u(rng, 20, min(80, leg_width * np.cos(np.radians(lean)) - 7))
    section = _rounded_rect(along, across, _u(rng, 1, 4))
    cosine = np.cos(np.radians(lean))
    bottom = (-leg_length - 10) / cosine
    top = (top_height + 5 if rng.random() < 0.4 else top_height * _u(rng, 0.2, 0.6)) / cosine
    return _moved(_along_y(_prism(section, top - bottom)), _shift(y=(top + bottom) / 2))


def slant_cavity_block(rng: np.random.Generator) -> trimesh.Trimesh:
    """A block lofted between a rounded and a chamfered outline, with a through-cavity
    inclined 10-25 degrees and an inclined row of pin holes across its width."""
    width, height = _u(rng, 24, 44), _u(rng, 40, 90)
    end_width, end_height = width * _u(rng, 0.85, 1.0), height * _u(rng, 0.7, 1.0)
    across = _u(rng, 12, min(35, end_width - 6))
    along, lean = _u(rng, 20, 80), _signed(rng, 10, 25)
    cavity_run = along / np.cos(np.radians(lean)) + height * np.tan(np.radians(abs(lean)))
    pins, pin_d = int(rng.integers(3, 7)), _u(rng, 2.5, 6)
    spacing = _u(rng, pin_d + 4, 16)
    row_angle = _bounded_row_angle(rng, pins, spacing, end_height - pin_d - 10)
    pin_run = (pins - 1) * spacing * np.cos(np.radians(row_angle)) + pin_d
    pin_margin, end_wall = _u(rng, 6, 15), _u(rng, 8, 20)
    length = pin_margin + pin_run + _u(rng, 6, 15) + cavity_run + end_wall

    start = _rounded_rect(width, height, _u(rng, 2, width / 4))
    end = _chamfered_rect(end_width, end_height, _u(rng, 1, end_width / 4))
    block = _loft(start, end, length)
    section = _rounded_rect(along, across, _u(rng, 1, 5))
    cavity = _along_y(_prism(section, (height + 20) / np.cos(np.radians(lean))))
    cavity = _moved(cavity, _turn("z", lean), _shift(length - end_wall - cavity_run / 2))
    row = _pin_row(pins, pin_d, spacing, (pin_margin + pin_run / 2, 0, 0), row_angle, width + 20)
    return _mesh(_cut(block, [cavity, *row]))


def dogleg_bar(rng: np.random.Generator) -> trimesh.Trimesh:
    """Two members joined at 10-30 degrees by a hull; one carries a through-well tilted
    0-15 degrees, the other a row of pin holes across its width."""
    width, height = _u(rng, 22, 38), _u(rng, 28, 55)
    lengths = (_u(rng, 80, 160), _u(rng, 80, 160))
    bend = _signed(rng, 10, 30)
    # the side outline is joined in 2-D (a hull fills the outer corner), then extruded
    first = CrossSection.square((lengths[0], height)).translate((-lengths[0], -height / 2))
    second = CrossSection.square((lengths[1], height)).translate((0, -height / 2))
    second = second.rotate(bend)
    joint = ((first + second) ^ CrossSection.circle(height, SEGMENTS)).hull()
    outline = _fillet(first + second + joint, _u(rng, 1, 4))
    body = _prism(outline, width)

    well_member = int(rng.integers(2))
    well_length = lengths[well_member]
    tilt = _signed(rng, 0, 15)
    along = _u(rng, 20, min(80, well_length - 40 - height * np.tan(np.radians(abs(tilt)))))
    across = _u(rng, 12, min(35, width - 6))
    well = _along_y(_prism(_rounded_rect(along, across, _u(rng, 1, 4)), height * 2 + 20))
    well = _moved(well, _turn("z", tilt))
    pins, pin_d = int(rng.integers(3, 7)), _u(rng, 2.5, 6)
    pin_length = lengths[1 - well_member]
    spacing = min(_u(rng, pin_d + 4, 18), (pin_length - 40) / (pins - 1))
    row_angle = _bounded_row_angle(rng, pins, spacing, height - pin_d - 8) / 3
    row = _pin_row(pins, pin_d, spacing, (0, 0, 0), row_angle, width + 20)
    placed = [_in_member(well, well_member, lengths, bend)]
    placed += [_in_member(hole, 1 - well_member, lengths, bend) for hole in row]
    return _mesh(_cut(body, placed))


def _in_member(tool: Manifold, member: int, lengths, bend: float) -> Manifold:
    """*tool*, built at the origin, moved to the middle of member 0 (along -x) or member 1
    (along +x, then turned by *bend* about the joint)."""
    if member == 0:
        return _moved(tool, _shift(-lengths[0] / 2))
    return _moved(tool, _shift(lengths[1] / 2), _turn("z", bend))


def channel_beam(rng: np.random.Generator) -> trimesh.Trimesh:
    """A tapered profile beam with a long internal channel open at one end and a
    calibre-sized bore on the channel's axis through the closed end."""
    width, height, length = _u(rng, 26, 50), _u(rng, 28, 60), _u(rng, 150, 300)
    wall, taper = _u(rng, 3, 8), _u(rng, 0.85, 1.0)
    channel_length = length * _u(rng, 0.55, 0.85)
    if rng.random() < 0.3:
        width = height = max(width, height)
        outline = _regular_polygon(8, width / 2 / np.cos(np.pi / 8))
    else:
        outline = _outline_choice(rng, width, height)
    narrow = 1 - (1 - taper) * channel_length / length  # the outline's scale at the channel end
    section = outline.scale((narrow, narrow)).offset(-wall, JoinType.Miter)
    channel = _moved(section.extrude(channel_length + 1), _shift(z=-1))
    inner = min(width, height) * narrow - 2 * wall
    bore = _u(rng, 5, min(20, inner - 4, min(width, height) * taper - 2 * wall))
    bore_cut = _moved(_rod(bore, length + 4), _shift(z=length / 2))
    tools = [channel, bore_cut]
    if rng.random() < 0.4:
        tools.append(_side_window(rng, width * narrow, channel_length, inner))
    beam = outline.extrude(length, scale_top=(taper, taper))
    return _mesh(_along_x(_cut(beam, tools)))


def _side_window(rng, width, channel_length, inner_height) -> Manifold:
    """A slot through the +x side wall into the channel (which runs along z), its length
    inclined 0-15 degrees to the channel."""
    slot_width = _u(rng, 6, max(6.5, min(18, inner_height - 4)))
    slot_length = _u(rng, 25, max(26, min(70, channel_length - 30)))
    slot = _prism(_stadium(slot_width, slot_length), width)  # length along x, through z
    slot = _moved(slot, _turn("y", 90), _shift(x=width / 2), _turn("x", _signed(rng, 0, 15)))
    return _moved(slot, _shift(z=_u(rng, 15 + slot_length / 2, channel_length - slot_length / 2)))


def shell_open(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long thin-walled box, open at both ends, at one end or at the top; sometimes
    tapered, sometimes bent along its length."""
    width, height, length = _u(rng, 18, 50), _u(rng, 40, 100), _u(rng, 120, 300)
    wall = _u(rng, 1.0, 3.5)
    style = ("sleeve", "capped", "trough")[int(rng.integers(3))]
    if style == "trough":
        plan = _outline_choice(rng, length, width)
        outer = _along_y(_prism(plan, height))
        inner = _along_y(_prism(plan.offset(-wall, JoinType.Miter), height))
        return _mesh(outer - _moved(inner, _shift(y=wall)))
    section = _outline_choice(rng, width, height)
    if rng.random() < 0.4:  # a trapezoid: narrower at the top
        top = width * _u(rng, 0.75, 0.95) / 2
        section = _fillet(
            _polygon(
                [(-width / 2, -height / 2), (width / 2, -height / 2), (top, height / 2)]
                + [(-top, height / 2)]
            ),
            _u(rng, 0.5, 4),
        )
    hollow = section.offset(-wall, JoinType.Miter)
    arc = _u(rng, 3, 15) if rng.random() < 0.4 else 0.0
    divisions = int(length // 6) if arc else 0  # a bend needs stations along the length
    outer = section.extrude(length, n_divisions=divisions)
    inner = hollow.extrude(length + 2, n_divisions=divisions)
    inner = _moved(inner, _shift(z=wall if style == "capped" else -1))
    shell = _along_x(outer - inner)
    return _mesh(_bend(shell, length, arc) if arc else shell)


def shell_closed(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long thin-walled box lofted between two outlines and closed all round: an inner
    void, so the mesh has two nested shells."""
    width, height, length = _u(rng, 18, 50), _u(rng, 40, 100), _u(rng, 120, 300)
    wall = _u(rng, 1.0, 3.5)
    end_width, end_height = width * _u(rng, 0.8, 1.0), height * _u(rng, 0.75, 1.0)
    corner = _u(rng, 1.5, 6)
    start, end = (
        _rounded_rect(width, height, corner),
        _rounded_rect(end_width, end_height, corner),
    )
    inner_start = start.offset(-wall, JoinType.Miter)
    inner_end = end.offset(-wall, JoinType.Miter)
    outer = _loft(start, end, length)
    inner = Manifold.batch_hull([_slab(inner_start, wall), _slab(inner_end, length - wall)])
    return _mesh(outer - inner)


# --- benign look-alikes ------------------------------------------------------------------


def tool_handle(rng: np.random.Generator) -> trimesh.Trimesh:
    """A D-shaped tool handle: a filleted side outline with a hand slot and two
    fixing holes through its tang."""
    length, height, thick = _u(rng, 110, 170), _u(rng, 62, 90), _u(rng, 16, 28)
    slot_width = _u(rng, 22, 30)
    slot_length = _u(rng, 70, min(110, length - 40))
    tang = _u(rng, 18, 30)
    drop = _u(rng, max(0.8, (slot_width + 18) / height), 1.0)  # the far end may be lower
    outline = _polygon(
        [(0, -height / 2), (length, -height / 2 * drop), (length, height / 2)]
        + [(-tang, height / 2), (-tang, height / 2 - 16), (0, 0)]
    )
    body = _prism(_fillet(outline, _u(rng, 2, 5)), thick)
    slot = _prism(_stadium(slot_width, slot_length), thick + 10)
    slot = _moved(slot, _shift(length / 2 + _u(rng, -5, 5), _u(rng, -2, 2)))
    hole = _rod(_u(rng, 3.5, 5), thick + 10)
    holes = [_moved(hole, _shift(-tang / 2 + dx, height / 2 - 7)) for dx in (-tang / 5, tang / 5)]
    return _mesh(_cut(body, [slot, *holes]))


def pull_ring(rng: np.random.Generator) -> trimesh.Trimesh:
    """A revolved finger ring on a short revolved stem with a screw hole in its end."""
    inner, band, depth = _u(rng, 18, 35), _u(rng, 4, 8), _u(rng, 4, 10)
    ring = _rounded_rect(band, depth, _u(rng, 0.5, min(band, depth) / 2 - 0.3))
    ring = ring.translate((inner / 2 + band / 2, 0)).revolve(circular_segments=SEGMENTS)
    stem_d, stem_l = _u(rng, 8, 14), _u(rng, 10, 30)
    stem_start = inner / 2 + band * 0.6
    stem = _revolved(
        [(0, 0), (stem_d / 2, 0), (stem_d / 2 * _u(rng, 0.7, 1.0), stem_l), (0, stem_l)]
    )
    stem = _moved(stem, _turn("y", 90), _shift(stem_start))
    hole_start, hole_end = inner / 2 + band + 1, stem_start + stem_l + 2
    hole = _moved(_rod(_u(rng, 2.5, 4.5), hole_end - hole_start), _turn("y", 90))
    hole = _moved(hole, _shift((hole_start + hole_end) / 2))
    return _mesh((ring + stem) - hole)


def pipe_fitting(rng: np.random.Generator) -> trimesh.Trimesh:
    """An elbow, tee or reducer: revolved arms with sockets and short proportions."""
    bore, wall = _u(rng, 8, 50), _u(rng, 2, 5)
    style = ("elbow", "tee", "reducer")[int(rng.integers(3))]
    if style == "reducer":
        small = bore * _u(rng, 0.4, 0.8)
        long = _u(rng, 1.0, 2.5) * bore + 10
        profile = [
            (bore / 2, 0),
            (bore / 2 + wall, 0),
            (bore / 2 + wall, long * 0.4),
            (small / 2 + wall, long * 0.6),
            (small / 2 + wall, long),
            (small / 2, long),
            (small / 2, long * 0.6),
            (bore / 2, long * 0.4),
        ]
        return _mesh(_revolved(profile))
    arm = _u(rng, 0.8, 2.0) * bore + 10
    # a tee's run is one straight arm, so no two arms meet face to face at the hub
    arms = [
        (-arm if style == "tee" else 0.0, 0.0),
        (0.0, 180 - _u(rng, 30, 90) if style == "elbow" else 90),
    ]
    outer = [
        _moved(_arm(bore / 2 + wall, arm - start), _shift(start), _turn("z", d))
        for start, d in arms
    ]
    inner = [
        _moved(_arm(bore / 2, arm + 1 - start), _shift(start), _turn("z", d)) for start, d in arms
    ]
    sockets = [_moved(_socket(bore, wall, arm), _turn("z", d)) for _start, d in arms]
    if style == "tee":
        sockets.append(_moved(_socket(bore, wall, arm), _turn("z", 180)))
    # the hubs are a little larger (outside) and smaller (inside) than the arms: no
    # surfaces that merely touch
    hub = Manifold.sphere((bore / 2 + wall) * 1.12, SEGMENTS)
    bore_hub = Manifold.sphere(bore / 2 * 0.97, SEGMENTS)
    return _mesh(_union([*outer, hub]) - _union([*inner, *sockets, bore_hub]))


def _arm(radius, length) -> Manifold:
    """A round arm along +x from the origin."""
    return _moved(Manifold.cylinder(length, radius, circular_segments=SEGMENTS), _turn("y", 90))


def _socket(bore, wall, arm) -> Manifold:
    """The counterbore at an arm's mouth that takes the pipe."""
    depth = min(arm * 0.5, 6 + bore * 0.4)
    cutter = Manifold.cylinder(depth + 1, bore / 2 + wall * 0.5, circular_segments=SEGMENTS)
    return _moved(cutter, _turn("y", 90), _shift(arm - depth))


def cable_duct(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long, wide, shallow U channel with thin walls, lips, wall slots and a row of
    fixing holes in its floor."""
    width, height, length = _u(rng, 30, 100), _u(rng, 15, 50), _u(rng, 150, 400)
    wall = _u(rng, 1.5, 3)
    lip = _u(rng, 0, min(8, width / 4))
    outer = CrossSection.square((width, height), center=True)
    inner = CrossSection.square((width - 2 * wall, height), center=True).translate((0, wall))
    section = outer - inner
    if lip > 1:  # inward lips along the top of both walls
        lip_strip = CrossSection.square((lip + 0.5, wall))
        section = section + lip_strip.translate((-width / 2 + wall - 0.5, height / 2 - wall))
        section = section + lip_strip.translate((width / 2 - wall - lip, height / 2 - wall))
    duct = _along_x(_prism(section, length))
    tools = []
    if rng.random() < 0.7:
        slot_w, pitch = _u(rng, 4, 8), _u(rng, 12, 25)
        depth = height * _u(rng, 0.4, 0.8)
        count = int((length - 20) // pitch)
        slot = CrossSection.square((slot_w, depth + 1)).translate((-slot_w / 2, height / 2 - depth))
        slot = _prism(slot, width + 10)  # through both side walls (along z)
        tools += [_moved(slot, _shift(-length / 2 + 10 + pitch * (i + 0.5))) for i in range(count)]
    if rng.random() < 0.5:
        holes, hole_d = int(rng.integers(3, 9)), _u(rng, 4, 6)
        pitch = (length - 40) / (holes - 1)
        hole = _moved(_rod(hole_d, 20), _turn("x", 90), _shift(y=-height / 2))
        tools += [_moved(hole, _shift(-length / 2 + 20 + pitch * i)) for i in range(holes)]
    return _mesh(_cut(duct, tools))


def enclosure(rng: np.random.Generator) -> trimesh.Trimesh:
    """An open electronics box: thin walls, rounded corners, screw bosses in the
    corners and a cable hole through one wall."""
    length, width, height = _u(rng, 60, 200), _u(rng, 45, 150), _u(rng, 22, 70)
    wall, corner = _u(rng, 1.5, 3), _u(rng, 3, 12)
    plan = _rounded_rect(length, width, corner)
    box = _along_y(_prism(plan, height)) - _moved(
        _along_y(_prism(plan.offset(-wall, JoinType.Round, circular_segments=SEGMENTS), height)),
        _shift(y=wall),
    )
    boss_d = _u(rng, 6, 10)
    inset = wall + boss_d / 2
    corners = [
        (sx * (length / 2 - inset - corner / 3), sz * (width / 2 - inset - corner / 3))
        for sx in (-1, 1)
        for sz in (-1, 1)
    ]
    boss = _along_y(_prism(CrossSection.circle(boss_d / 2, SEGMENTS), height - 3))
    screw = _along_y(_prism(CrossSection.circle(_u(rng, 1.25, 1.75), SEGMENTS), height))
    box = box + _union([_moved(boss, _shift(x, -1.5, z)) for x, z in corners])
    tools = [_moved(screw, _shift(x, wall + 2, z)) for x, z in corners]
    cable = _moved(_rod(_u(rng, 5, min(14, height - 10)), wall * 6), _turn("y", 90))
    tools.append(_moved(cable, _shift(length / 2, _u(rng, -3, 3), _u(rng, -width / 5, width / 5))))
    return _mesh(_cut(box, tools))


def divided_tray(rng: np.random.Generator) -> trimesh.Trimesh:
    """A shallow storage tray with thin walls, a chamfered plan and 1-4 dividers."""
    length, width, height = _u(rng, 120, 300), _u(rng, 60, 200), _u(rng, 18, 60)
    wall = _u(rng, 1.2, 3)
    plan = _chamfered_rect(length, width, _u(rng, 3, 15))
    tray = _along_y(_prism(plan, height)) - _moved(
        _along_y(_prism(plan.offset(-wall, JoinType.Miter), height)), _shift(y=wall)
    )
    dividers = []
    for i in range(int(rng.integers(1, 5))):
        across = i % 2 == 0
        span = (width if across else length) - 2 * wall + 0.5
        size = (wall, span) if across else (span, wall)
        rise = height - wall - _u(rng, 0, 6)
        slab = _along_y(_prism(CrossSection.square(size, center=True), rise + 0.2))
        position = _u(rng, -0.35, 0.35) * (length if across else width)
        x, z = (position, 0.0) if across else (0.0, position)
        dividers.append(_moved(slab, _shift(x, -height / 2 + wall + rise / 2 - 0.1, z)))
    return _mesh(tray + _union(dividers))


def hole_bracket(rng: np.random.Generator) -> trimesh.Trimesh:
    """An angle, Z or flat bracket (a filleted extruded profile) with a row of 3-8
    fixing holes along its flange."""
    thick, width = _u(rng, 3, 8), _u(rng, 15, 60)
    flange, upright = _u(rng, 50, 140), _u(rng, 25, 90)
    style = ("angle", "zed", "strip")[int(rng.integers(3))]
    parts = [CrossSection.square((flange, thick))]
    if style in ("angle", "zed"):
        parts.append(CrossSection.square((thick, upright)))
    if style == "zed":
        top = _u(rng, 20, 50)
        parts.append(CrossSection.square((top, thick)).translate((thick - top, upright - thick)))
    body = _prism(_fillet(_union_2d(parts), _u(rng, 0.8, thick / 2)), width)
    hole_d = _u(rng, 3, 6.5)
    room = flange - thick - 2 * hole_d - 4
    holes = min(int(rng.integers(3, 9)), int(room // (hole_d + 3)) + 1)
    pitch = min(_u(rng, hole_d + 5, 25), room / (holes - 1))
    start = thick + hole_d + 2 + (room - pitch * (holes - 1)) / 2
    hole = _moved(_rod(hole_d, thick * 4), _turn("x", 90))
    row = [_moved(hole, _shift(start + pitch * i, thick / 2)) for i in range(holes)]
    return _mesh(_cut(body, row))


def _union_2d(parts) -> CrossSection:
    outline = parts[0]
    for part in parts[1:]:
        outline = outline + part
    return outline


def hinge_leaf(rng: np.random.Generator) -> trimesh.Trimesh:
    """One leaf of a butt hinge: a plate with a row of screw holes and 2-4 revolved
    knuckles along one edge, the pin bore through them."""
    length, leaf, thick = _u(rng, 30, 100), _u(rng, 20, 50), _u(rng, 2.5, 5)
    knuckle_d = _u(rng, max(8, thick + 4), 14)
    pin_d = _u(rng, 2.5, min(6, knuckle_d - 4))
    knuckles = int(rng.integers(2, 5))
    pitch = length / (2 * knuckles - 1)  # own knuckles alternate with the other leaf's
    # the plate stops short of the end knuckles' faces: no coplanar faces in the union
    plate = CrossSection.square((length - 0.6, leaf)).translate((-length / 2 + 0.3, 0))
    for i in range(knuckles - 1):  # room for the other leaf's knuckles
        gap = CrossSection.square((pitch + 0.6, knuckle_d / 2 + 1))
        plate = plate - gap.translate((-length / 2 + pitch * (2 * i + 1) - 0.3, 0))
    body = _prism(plate, thick)
    knuckle = _along_x(_prism(CrossSection.circle(knuckle_d / 2, SEGMENTS), pitch))
    for i in range(knuckles):
        body = body + _moved(knuckle, _shift(-length / 2 + pitch * (2 * i + 0.5)))
    pin = _along_x(_prism(CrossSection.circle(pin_d / 2, SEGMENTS), length + 4))
    screws = int(rng.integers(2, 5))
    screw = _rod(_u(rng, 3, 5), thick * 4)
    row = [
        _moved(screw, _shift(-length / 2 + length * (i + 0.5) / screws, leaf * 0.65))
        for i in range(screws)
    ]
    return _mesh(_cut(body, [pin, *row]))


def short_tube(rng: np.random.Generator) -> trimesh.Trimesh:
    """A revolved tube of non-calibre proportions: a short flanged bushing with a
    calibre-sized bore, or a long pipe with a wide bore and a thin wall."""
    if rng.random() < 0.5:
        bore, length = _u(rng, 5, 20), _u(rng, 6, 40)
        outer = bore / 2 + _u(rng, 1.5, 8)
        flange, flange_t = outer + _u(rng, 0, 8), _u(rng, 1.5, 4)
        profile = [(bore / 2, 0), (flange, 0), (flange, flange_t), (outer, flange_t + 0.3)]
        profile += [(outer, length), (bore / 2, length)]
    else:
        bore, length = _u(rng, 24, 60), _u(rng, 60, 250)
        wall = _u(rng, 1.5, 5)
        chamfer = wall * 0.4
        profile = [(bore / 2, 0), (bore / 2 + wall - chamfer, 0), (bore / 2 + wall, chamfer)]
        profile += [(bore / 2 + wall, length - chamfer), (bore / 2 + wall - chamfer, length)]
        profile += [(bore / 2, length)]
    return _mesh(_revolved(profile))


def shaft_clamp(rng: np.random.Generator) -> trimesh.Trimesh:
    """A split shaft collar (revolved) or a pillow block (extruded trapezoid), each with
    a short calibre-sized bore and a clamping or mounting screw hole."""
    bore = _u(rng, 6, 20)
    if rng.random() < 0.5:
        outer, width = bore / 2 + _u(rng, 6, 13), _u(rng, 8, 20)
        collar = _revolved([(bore / 2, 0), (outer, 0), (outer, width), (bore / 2, width)])
        split = CrossSection.square((outer + 1, _u(rng, 1, 2.5))).translate((0, -0.6))
        split = _moved(_prism(split, width + 4), _shift(z=width / 2))
        screw = _moved(_rod(_u(rng, 3, 5), outer * 3), _turn("x", 90))
        screw = _moved(screw, _shift(bore / 2 + (outer - bore / 2) / 2, 0, width / 2))
        return _mesh(_cut(collar, [split, screw]))
    depth, height = _u(rng, 12, 35), bore + _u(rng, 14, 30)
    base, top = bore + _u(rng, 40, 70), bore + _u(rng, 10, 20)
    outline = _polygon(
        [(-base / 2, 0), (base / 2, 0), (base / 2, 8), (top / 2, height), (-top / 2, height)]
        + [(-base / 2, 8)]
    )
    block = _prism(_fillet(outline, _u(rng, 1, 3)), depth)
    hole = _moved(_rod(bore, depth + 4), _shift(y=height - top / 2))
    mount = _moved(_rod(_u(rng, 4, 6.5), height * 3), _turn("x", 90))
    mounts = [_moved(mount, _shift(side * (base / 2 - 7), 0)) for side in (-1, 1)]
    return _mesh(_cut(block, [hole, *mounts]))


def linkage_arm(rng: np.random.Generator) -> trimesh.Trimesh:
    """A flat dog-leg arm (two members at 10-30 degrees, joined in 2-D), with end holes
    and a row of lightening holes along one member."""
    width, thick = _u(rng, 12, 30), _u(rng, 4, 10)
    lengths = (_u(rng, 60, 150), _u(rng, 60, 150))
    bend = _signed(rng, 10, 30)
    first = _stadium(width, lengths[0] + width).translate((-lengths[0] / 2, 0))
    second = _stadium(width, lengths[1] + width).translate((lengths[1] / 2, 0)).rotate(bend)
    body = _prism(first + second, thick)
    end_hole = _rod(_u(rng, 4, min(10, width - 5)), thick + 4)
    ends = [(-lengths[0], 0, 0), (0, 0, 0)]
    ends.append((lengths[1] * np.cos(np.radians(bend)), lengths[1] * np.sin(np.radians(bend)), 0))
    tools = [_moved(end_hole, _shift(*point)) for point in ends]
    holes, hole_d = int(rng.integers(3, 7)), _u(rng, 5, min(12, width - 5))
    pitch = (lengths[0] - 2 * width) / holes
    if pitch > hole_d + 3:
        tools += [
            _moved(_rod(hole_d, thick + 4), _shift(-lengths[0] + width + pitch * (i + 0.5)))
            for i in range(holes)
        ]
    return _mesh(_cut(body, tools))


def tool_body(rng: np.random.Generator) -> trimesh.Trimesh:
    """A hand-tool casing: a wide, short revolved tube over a solid handle inclined
    10-25 degrees (no well, no loop, no calibre bore)."""
    bore, length = _u(rng, 24, 45), _u(rng, 60, 130)
    outer = bore / 2 + _u(rng, 3, 8)
    tube = _along_x(_revolved([(bore / 2, 0), (outer, 0), (outer, length), (bore / 2, length)]))
    grip_w, grip_l, lean = _u(rng, 28, 45), _u(rng, 80, 120), _u(rng, 10, 25)
    run = np.tan(np.radians(lean))
    grip_x = _u(rng, 0.1, 0.5) * (length - grip_w)
    side = _polygon(
        [(grip_x, 0), (grip_x - grip_l * run, -grip_l), (grip_x + grip_w - grip_l * run, -grip_l)]
        + [(grip_x + grip_w, 0)]
    )
    grip = _moved(_prism(_fillet(side, _u(rng, 2, 6)), _u(rng, 22, 34)), _shift(y=-outer + 2))
    return _mesh(tube + grip)


# --- the family ------------------------------------------------------------------------


class Kind(NamedTuple):
    """One kind of family B: its builder and what a table of the family says about it.
    (A NamedTuple, not a dataclass, so the module also works when loaded from its path
    with importlib, as the benchmarks and tests do.)"""

    name: str
    group: str  # "positive" or "lookalike"
    make: Builder
    features: str  # the coarse features it shares with printable firearm parts, or not
    shells: int = 1  # connected shells: a closed hollow body has an inner one


def _group(group: str, *entries) -> tuple[Kind, ...]:
    """Kinds of *group* from (builder, features[, shells]); a kind is named after its
    builder."""
    return tuple(Kind(make.__name__, group, make, *rest) for make, *rest in entries)


KINDS: tuple[Kind, ...] = _group(
    "positive",
    (revolved_tube, "calibre bore through a long tube"),
    (drilled_prism, "calibre bore through a long tapered prism"),
    (loop_silhouette, "finger loop; well along a leg inclined 10-25 deg; inclined pin row"),
    (slant_cavity_block, "through-cavity inclined 10-25 deg; pin row across the width"),
    (dogleg_bar, "members at 10-30 deg; well in one, pin row across the other"),
    (channel_beam, "long internal channel, calibre bore on its axis"),
    (shell_open, "long thin-walled box, open (ends or top)"),
    (shell_closed, "long thin-walled box, closed", 2),
) + _group(
    "lookalike",
    (tool_handle, "hand slot (a large loop)"),
    (pull_ring, "finger-sized ring"),
    (pipe_fitting, "bores, short arms"),
    (cable_duct, "long thin-walled open channel, wide and shallow"),
    (enclosure, "thin-walled open box, not long"),
    (divided_tray, "thin-walled open tray with dividers"),
    (hole_bracket, "row of 3-8 holes through a flange"),
    (hinge_leaf, "pin bore along knuckles; screw-hole row"),
    (short_tube, "calibre bore but short, or long but wide"),
    (shaft_clamp, "short calibre-sized bore"),
    (linkage_arm, "flat dog-leg members; hole row"),
    (tool_body, "solid handle inclined 10-25 deg; wide short tube"),
)
BY_NAME = {kind.name: kind for kind in KINDS}
POSITIVES: dict[str, Builder] = {k.name: k.make for k in KINDS if k.group == "positive"}
LOOKALIKES: dict[str, Builder] = {k.name: k.make for k in KINDS if k.group == "lookalike"}


def build(kind: str, rng: np.random.Generator) -> trimesh.Trimesh:
    """One mesh of *kind* in a random rigid pose (rotation and translation)."""
    mesh = BY_NAME[kind].make(rng)
    mesh.apply_transform(trimesh.transformations.random_rotation_matrix(rng.random(3)))
    mesh.apply_translation(rng.uniform(-150, 150, 3))
    return mesh


def kind_rng(kind: str, index: int, seed: int) -> np.random.Generator:
    """The random stream of mesh *index* of *kind*: independent of every other kind."""
    return np.random.default_rng([seed, zlib.crc32(kind.encode()), index])


def sample(count_per_kind: int, seed: int = 0) -> list[tuple[str, str, trimesh.Trimesh]]:
    """(group, kind, posed mesh) for *count_per_kind* meshes of every kind, positives
    first; the same *seed* gives the same meshes."""
    return list(iter_sample(count_per_kind, seed))


def iter_sample(count_per_kind: int, seed: int = 0) -> Iterator[tuple[str, str, trimesh.Trimesh]]:
    """:func:`sample`, one mesh at a time."""
    for kind in KINDS:
        for index in range(count_per_kind):
            yield kind.group, kind.name, build(kind.name, kind_rng(kind.name, index, seed))


# --- command line ----------------------------------------------------------------------


def _summary(kind: Kind, count: int, seed: int) -> dict:
    """Measured extents (mm, sorted), triangles and CPU time over *count* meshes."""
    extents, triangles, started = [], [], time.process_time()
    for index in range(count):
        mesh = kind.make(kind_rng(kind.name, index, seed))
        extents.append(np.sort(mesh.extents)[::-1])
        triangles.append(len(mesh.faces))
    extents = np.array(extents)
    return {
        "low": extents.min(axis=0),
        "high": extents.max(axis=0),
        "triangles": (min(triangles), max(triangles)),
        "ms": 1000 * (time.process_time() - started) / count,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20, help="meshes per kind (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write posed STL files here")
    args = parser.parse_args(argv)
    print(
        "| kind | group | coarse features | extents (mm, longest to shortest) | triangles"
        " | CPU ms per mesh |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for kind in KINDS:
        row = _summary(kind, args.count, args.seed)
        spans = " x ".join(
            f"{lo:.0f}-{hi:.0f}" for lo, hi in zip(row["low"], row["high"], strict=True)
        )
        tris = "{}-{}".format(*row["triangles"])
        print(
            f"| {kind.name} | {kind.group} | {kind.features} | {spans} | {tris} | {row['ms']:.0f} |"
        )
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            for index in range(args.count):
                mesh = build(kind.name, kind_rng(kind.name, index, args.seed))
                mesh.export(args.out / f"{kind.name}_{index:03d}.stl")
        print(f"wrote {len(KINDS) * args.count} STL files to {args.out}")


if __name__ == "__main__":
    main()
