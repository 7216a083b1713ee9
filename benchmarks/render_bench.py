"""Time the report's three shaded views of a 1,000,000-triangle part.

The part is a crude procedural stand-in (a block with a lengthwise bore and a
row of pin holes), subdivided until it has at least a million triangles. The
figure that counts is the time of ``render_views`` (decimation for the picture,
three rasterised, shaded views, scale bars, PNG encoding); the target is
<= 3 s. For comparison the same views are also drawn without decimation.

Run: ``python benchmarks/render_bench.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

TARGET_SECONDS = 3.0


def million_triangle_part():
    import numpy as np
    import trimesh

    sections = 324  # chosen so that four subdivisions just pass one million triangles
    part = trimesh.creation.box((120, 30, 40))
    bore = trimesh.creation.cylinder(radius=4.5, height=200, sections=sections)
    bore.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
    part = part.difference(bore)
    for x in (-45, -35, -25, -15):
        pin = trimesh.creation.cylinder(radius=1.6, height=60, sections=sections // 2)
        pin.apply_translation((x, 8, 0))  # through the block, beside the bore
        part = part.difference(pin)
    while len(part.faces) < 1_000_000:
        part = part.subdivide()
    return np.asarray(part.vertices), np.asarray(part.faces)


def timed(func, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median printed)")
    args = parser.parse_args()

    from firetrace.report.views import render_views

    vertices, faces = million_triangle_part()
    print(f"part: {len(faces):,} triangles, {len(vertices):,} vertices")
    import trimesh

    warm = trimesh.creation.box((1, 2, 3))
    render_views(warm.vertices, warm.faces)  # first-call imports are not timed

    seconds, drawing = timed(lambda: render_views(vertices, faces), args.repeat)
    verdict = "meets" if seconds <= TARGET_SECONDS else "MISSES"
    print(
        f"three views, decimated for the picture: {seconds:.2f} s "
        f"({len(faces) / seconds / 1e6:.2f} M triangles/s; {drawing.drawn_triangles:,} drawn; "
        f"median of {args.repeat}) -> {verdict} the <= {TARGET_SECONDS:.0f} s target"
    )
    png_bytes = sum(len(v.png) for v in drawing.views)
    print(f"  pictures: {len(drawing.views)} PNG, {png_bytes / 1024:.0f} KiB in all")

    full_seconds, _ = timed(lambda: render_views(vertices, faces, max_triangles=10**9), 1)
    print(
        f"three views, every triangle rasterised (no decimation): {full_seconds:.2f} s "
        f"(ratio decimated/full: {seconds / full_seconds:.2f})"
    )


if __name__ == "__main__":
    main()
