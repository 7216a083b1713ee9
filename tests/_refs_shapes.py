"""Crude procedural shapes for the reference-library tests: plain solids and
stacks of boxes and cylinders, nothing resembling a functional part."""

from __future__ import annotations

import numpy as np
import trimesh


def bracket() -> trimesh.Trimesh:
    """A plate with an off-centre boss and a rib: no symmetry to hide behind."""
    plate = trimesh.creation.box((40.0, 20.0, 4.0))
    boss = trimesh.creation.cylinder(radius=4.0, height=12.0, sections=48)
    boss.apply_translation((12.0, 3.0, 6.0))
    rib = trimesh.creation.box((4.0, 16.0, 10.0))
    rib.apply_translation((-15.0, 0.0, 5.0))
    return trimesh.util.concatenate([plate, boss, rib])


def tube() -> trimesh.Trimesh:
    return trimesh.creation.annulus(r_min=3.0, r_max=8.0, height=60.0, sections=64)


def ring() -> trimesh.Trimesh:
    return trimesh.creation.torus(major_radius=20.0, minor_radius=4.0)


def block() -> trimesh.Trimesh:
    return trimesh.creation.box((10.0, 20.0, 30.0))


def pin_row() -> trimesh.Trimesh:
    bar = trimesh.creation.box((50.0, 8.0, 6.0))
    pins = []
    for x in (-18.0, -6.0, 6.0, 18.0):
        pin = trimesh.creation.cylinder(radius=1.5, height=14.0, sections=32)
        pin.apply_translation((x, 0.0, 0.0))
        pins.append(pin)
    return trimesh.util.concatenate([bar, *pins])


SHAPES = {"bracket": bracket, "tube": tube, "ring": ring, "block": block, "pin_row": pin_row}


def soup(triangles: np.ndarray) -> trimesh.Trimesh:
    """A mesh with one vertex per triangle corner (as an STL reader sees it)."""
    return trimesh.Trimesh(
        vertices=np.asarray(triangles).reshape(-1, 3),
        faces=np.arange(len(triangles) * 3).reshape(-1, 3),
        process=False,
    )
