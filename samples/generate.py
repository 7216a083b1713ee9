"""Procedural sample generator: crude stand-ins that share only coarse features
with printable firearm parts, and benign look-alikes, for tests and evaluation.

Nothing here is, or resembles in detail, a real or functional design: every
stand-in is a box or cylinder with box- or cylinder-shaped holes cut by
manifold3d booleans (a tube with a calibre-sized bore; a block with a finger
loop, a rectangular through-cavity and a row of pin holes; a longer block with
an internal channel and a hollow boss; a thin-walled long box). The benign
look-alikes share the same primitives (pipe spacer, mug with handle, storage box,
bracket with holes). Sizes vary randomly within plausible ranges; :func:`pose`
puts a part in a random orientation and position. Every stand-in also takes
``tilt`` (degrees): its sub-features (loop, cavity, pin row, collar, boss and
bore, the box's walls) are then turned by up to that much relative to each other
and to the body's axes, as a part drawn freehand would have them.

Usage: ``python samples/generate.py OUTDIR [--count N] [--seed S] [--formats stl,obj,...]``
writes ``<kind>_<n>.<ext>`` files (names carry no firearm words).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import trimesh

EXPORT_TYPES = {
    "stl": ("stl", "stl"),
    "stl_ascii": ("stl_ascii", "stl"),
    "obj": ("obj", "obj"),
    "ply": ("ply", "ply"),
    "3mf": ("3mf", "3mf"),
    "off": ("off", "off"),
    "glb": ("glb", "glb"),
}


def _box(size, centre=(0, 0, 0)):
    return trimesh.creation.box(
        extents=size, transform=trimesh.transformations.translation_matrix(centre)
    )


def _cylinder(radius, height, centre=(0, 0, 0), axis="z", sections=48):
    mesh = trimesh.creation.cylinder(radius=radius, height=height, sections=sections)
    if axis == "x":
        mesh.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
    elif axis == "y":
        mesh.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    mesh.apply_translation(centre)
    return mesh


def _cut(base, *tools):
    return trimesh.boolean.difference([base, *tools], engine="manifold")


def _join(*parts):
    return trimesh.boolean.union(list(parts), engine="manifold")


def _u(rng, low, high):
    return float(rng.uniform(low, high))


def _turned(mesh, rng, tilt: float, axis=None, about=None):
    """*mesh* turned by a random angle in [-tilt, tilt] degrees about *axis* (a random
    axis when None) through the point *about* (its centroid when None)."""
    if tilt <= 0:
        return mesh
    if axis is None:
        axis = rng.normal(size=3)
    angle = np.radians(_u(rng, -tilt, tilt))
    centre = mesh.bounds.mean(axis=0) if about is None else about
    mesh.apply_transform(trimesh.transformations.rotation_matrix(angle, axis, centre))
    return mesh


CALIBRES_MM = (5.7, 7.8, 9.0, 9.1, 10.2, 11.5, 18.5)


# --- stand-ins ------------------------------------------------------------------------


def tube_with_bore(rng, tilt: float = 0.0):
    """A plain tube whose bore is calibre-sized, sometimes with a collar at one end
    (turned by up to *tilt* degrees against the tube)."""
    bore = float(rng.choice(CALIBRES_MM))
    outer = bore / 2 + _u(rng, 4.0, 8.0)
    length = _u(rng, 90, 260)
    body = _cylinder(outer, length, axis="x")
    if rng.random() < 0.5 or tilt > 0:
        collar = _cylinder(
            outer + _u(rng, 2, 5), _u(rng, 10, 25), centre=(-length / 2 + 10, 0, 0), axis="x"
        )
        body = _join(body, _turned(collar, rng, tilt))
    return _cut(body, _cylinder(bore / 2, length + 10, axis="x"))


def grip_block(rng, tilt: float = 0.0):
    """A block with a finger loop, a rectangular through-cavity and a row of pin holes
    (each turned by up to *tilt* degrees: the cavity mostly in the block's plane, like
    an inclined well, the pins across its thickness)."""
    length, height, thick = _u(rng, 150, 200), _u(rng, 90, 125), _u(rng, 26, 32)
    block = _box((length, height, thick))
    loop_r, loop_x = _u(rng, 11, 14), -0.1 * length
    loop = _cylinder(loop_r, thick + 4, centre=(loop_x, -height * 0.18, 0))
    cavity_w = _u(rng, 18, thick - 5)
    cavity_start = loop_x + loop_r + _u(rng, 8, 14)
    cavity_end = length / 2 - _u(rng, 10, 20)
    cavity = _box(
        (cavity_end - cavity_start, height + 4, cavity_w),
        centre=((cavity_start + cavity_end) / 2, 0, 0),
    )
    pin_d, pin_step = _u(rng, 3.2, 5.0), _u(rng, 14, 18)
    pins = [
        _cylinder(
            pin_d / 2, thick + 4, centre=(-0.42 * length + 8 + i * pin_step, height * 0.25, 0)
        )
        for i in range(int(rng.integers(3, 5)))
    ]
    if tilt > 0:
        _turned(loop, rng, tilt)
        _turned(cavity, rng, tilt, axis=(0, 0, 1))
        _turned(cavity, rng, tilt / 3)
        pin_axis = (1.0, _u(rng, -0.3, 0.3), 0.0)
        pin_angle = _u(rng, -tilt, tilt)
        for pin in pins:
            pin.apply_transform(
                trimesh.transformations.rotation_matrix(
                    np.radians(pin_angle), pin_axis, pin.bounds.mean(axis=0)
                )
            )
    return _cut(block, loop, cavity, *pins)


def channel_block(rng, tilt: float = 0.0):
    """A longer block with an internal channel open at one end and a hollow boss at the
    other (boss and bore turned together by up to *tilt* / 2 degrees: more would leave
    the block)."""
    length, width, height = _u(rng, 170, 230), _u(rng, 27, 34), _u(rng, 30, 38)
    block = _box((length, height, width))
    boss_r, boss_l = _u(rng, 7.5, 10), _u(rng, 12, 20)
    boss = _cylinder(boss_r, boss_l, centre=(length / 2 + boss_l / 2 - 0.5, 0, 0), axis="x")
    body = _join(block, boss)
    channel_l = length * _u(rng, 0.75, 0.85)
    channel = _box(
        (channel_l + 2, height - 10, width - 10), centre=(-length / 2 + channel_l / 2 - 1, 0, 0)
    )
    bore = float(rng.choice(CALIBRES_MM[:5]))
    bore_cut = _cylinder(
        bore / 2,
        boss_l + length - channel_l + 10,
        centre=(length / 2 + boss_l / 2 - (boss_l + length - channel_l) / 2, 0, 0),
        axis="x",
    )
    if tilt > 0:
        pivot = np.array([length / 2, 0.0, 0.0])
        axis = (0.0, _u(rng, -1, 1), _u(rng, -1, 1))
        angle = np.radians(_u(rng, -tilt / 2, tilt / 2))
        turn = trimesh.transformations.rotation_matrix(angle, axis, pivot)
        body = _join(block, boss.apply_transform(turn))
        bore_cut.apply_transform(turn)
    return _cut(body, channel, bore_cut)


def thin_walled_box(rng, tilt: float = 0.0):
    """A long, narrow, open-topped box with thin walls (sheared by up to *tilt*
    degrees along its length, like an inclined box)."""
    length, width, height = _u(rng, 180, 260), _u(rng, 28, 40), _u(rng, 45, 62)
    wall = _u(rng, 1.5, 2.5)
    outer = _box((length, height, width))
    inner = _box((length - 2 * wall, height, width - 2 * wall), centre=(0, wall + 1, 0))
    box = _cut(outer, inner)
    if tilt > 0:
        shear = np.eye(4)
        shear[1, 0] = np.tan(np.radians(_u(rng, -tilt, tilt)))
        box.apply_transform(shear)
    return box


# --- benign look-alikes ---------------------------------------------------------------


def pipe_spacer(rng):
    outer, bore = _u(rng, 10, 16), _u(rng, 6, 12)
    return _cut(_cylinder(outer, _u(rng, 8, 40)), _cylinder(bore / 2, 60))


def mug_with_handle(rng):
    radius, height, wall = _u(rng, 38, 46), _u(rng, 85, 105), _u(rng, 3, 5)
    cup = _cut(_cylinder(radius, height), _cylinder(radius - wall, height, centre=(0, 0, wall)))
    handle_h, handle_w, handle_t = _u(rng, 50, 65), _u(rng, 28, 36), _u(rng, 10, 14)
    ring = _cut(
        _box((handle_w, handle_t, handle_h), centre=(radius + handle_w / 2 - 4, 0, 0)),
        _box(
            (handle_w - 16, handle_t + 4, handle_h - 18), centre=(radius + handle_w / 2 - 2, 0, 0)
        ),
    )
    return _join(cup, ring)


def storage_box(rng):
    length, width, height, wall = (
        _u(rng, 100, 220),
        _u(rng, 70, 150),
        _u(rng, 40, 100),
        _u(rng, 1.5, 3),
    )
    return _cut(
        _box((length, width, height)),
        _box((length - 2 * wall, width - 2 * wall, height), centre=(0, 0, wall + 1)),
    )


def bracket(rng):
    arm, width, thick = _u(rng, 40, 90), _u(rng, 20, 40), _u(rng, 4, 10)
    foot = _box((arm, width, thick), centre=(arm / 2, 0, thick / 2))
    upright = _box((thick, width, arm), centre=(thick / 2, 0, arm / 2))
    body = _join(foot, upright)
    hole_d = _u(rng, 4, 6.5)
    holes = [
        _cylinder(
            hole_d / 2, thick * 3, centre=(thick + (i + 0.7) * (arm - thick) / 3.2, 0, thick / 2)
        )
        for i in range(int(rng.integers(2, 4)))
    ]
    holes += [_cylinder(hole_d / 2, thick * 3, centre=(thick / 2, 0, arm * 0.6), axis="x")]
    return _cut(body, *holes)


STANDINS = {
    "tube": tube_with_bore,
    "gripblock": grip_block,
    "channelblock": channel_block,
    "thinbox": thin_walled_box,
}
LOOKALIKES = {
    "spacer": pipe_spacer,
    "mug": mug_with_handle,
    "storagebox": storage_box,
    "bracket": bracket,
}


def pose(mesh: trimesh.Trimesh, rng, scale_range=(0.9, 1.1)) -> trimesh.Trimesh:
    """A copy in a random orientation, position and overall scale."""
    moved = mesh.copy()
    moved.apply_scale(_u(rng, *scale_range))
    moved.apply_transform(trimesh.transformations.random_rotation_matrix(rng.random(3)))
    moved.apply_translation(rng.uniform(-200, 200, 3))
    return moved


def roughen(mesh: trimesh.Trimesh, rng, jitter_mm: float = 0.03) -> trimesh.Trimesh:
    """A copy with every triangle split in four and the vertices jittered, like a
    mesh exported at a different tessellation or through a lossy converter."""
    rough = mesh.subdivide()
    rough.vertices = rough.vertices + rng.normal(0.0, jitter_mm, rough.vertices.shape)
    return rough


def export_bytes(mesh: trimesh.Trimesh, fmt: str) -> tuple[bytes, str]:
    """(file content, extension) for one of :data:`EXPORT_TYPES`."""
    file_type, extension = EXPORT_TYPES[fmt]
    data = mesh.export(file_type=file_type)
    if isinstance(data, str):
        data = data.encode()
    return data, extension


def generate(
    out_dir: Path, count: int = 2, seed: int = 0, formats=("stl",), tilt: float = 0.0
) -> list[Path]:
    """Write *count* posed samples of every kind to *out_dir*, cycling through *formats*
    (stand-ins with their sub-features turned by up to *tilt* degrees)."""
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    index = 0
    for kinds in (STANDINS, LOOKALIKES):
        for kind, build in kinds.items():
            for n in range(count):
                fmt = formats[index % len(formats)]
                index += 1
                part = build(rng, tilt) if kinds is STANDINS else build(rng)
                data, extension = export_bytes(pose(part, rng), fmt)
                path = out_dir / f"{kind}_{n:03d}.{extension}"
                path.write_bytes(data)
                written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", default="stl", help="comma list of " + ",".join(EXPORT_TYPES))
    parser.add_argument("--tilt", type=float, default=0.0, help="sub-feature turn, degrees")
    args = parser.parse_args(argv)
    formats = tuple(args.formats.split(","))
    paths = generate(args.out_dir, args.count, args.seed, formats, args.tilt)
    print(f"wrote {len(paths)} files to {args.out_dir}")


if __name__ == "__main__":
    main()
