"""Build vtuber's generic 3D face model (vtuber/data/face_model.npy) from real photos.

The model is the 478 FaceMesh landmarks (iris included) of real frontal faces shipped by packages
vtuber's tests already use (matplotlib's grace_hopper.jpg, scikit-image's astronaut), in MediaPipe's
axes (x right, y down, z away from the camera), each face scaled so that the outer eye corners are
9 cm apart, aligned to the first by a similarity transform, averaged, and made left/right symmetric.
Units: centimetres, origin at the mean of the points.

It also writes vtuber/data/face_triangles.npy: the face mesh's triangles (852 x 3 landmark
indices, the eye and mouth openings left as holes), recovered from MediaPipe's published
tessellation edge list as the 3-cycles of that graph (minus the 2 cycles that are not faces).
vtuber.synth.face renders faces with them.

Run: python scripts/make_face_model.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vtuber.landmarks.face_mesh import EYE_OUTER_L, EYE_OUTER_R
from vtuber.landmarks.facemesh import FaceMeshBackend
from vtuber.solvers.head import mirror_pairs, similarity_align


def photos() -> list[np.ndarray]:
    import matplotlib.cbook as cbook
    import skimage.data

    grace = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    astro = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    return [grace, astro]


def mesh_triangles() -> np.ndarray:
    """(T, 3) int32 triangles of the face mesh, from the tessellation's edge graph."""
    import itertools
    from collections import Counter

    # A build-time script, not the package: reading the edge table here keeps mediapipe out of
    # vtuber's runtime modules other than vtuber.landmarks.
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    edges = {tuple(sorted(e)) for e in FACEMESH_TESSELATION}
    adj: dict[int, set[int]] = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    tris = {tuple(sorted((a, b, c))) for a, b in edges for c in adj[a] & adj[b]}
    uses = Counter(e for t in tris for e in itertools.combinations(t, 2))
    # In a triangulated surface an edge borders at most 2 faces; a 3-cycle whose three edges
    # all border 3 cycles is a separating triangle, not a face.
    faces = [t for t in tris if not all(uses[e] == 3 for e in itertools.combinations(t, 2))]
    return np.array(sorted(faces), dtype=np.int32)


def main() -> None:
    faces = []
    with FaceMeshBackend(static_images=True) as fm:
        for img in photos():
            lm = fm.process(img, 0.0)
            assert lm.face.found, "no face found in a sample photo"
            p = lm.face_pixels()
            p -= p.mean(axis=0)
            p *= 9.0 / np.linalg.norm(p[EYE_OUTER_L] - p[EYE_OUTER_R])
            faces.append(p)
    ref = faces[0]
    aligned = [ref] + [similarity_align(f, ref) for f in faces[1:]]
    model = np.mean(aligned, axis=0)
    # Symmetrize: reflect x, swap mirror-pair indices, average, re-centre.
    pairs = mirror_pairs(model)
    refl = model[pairs] * np.array([-1.0, 1.0, 1.0])
    model = 0.5 * (model + similarity_align(refl, model, scale=False))
    model -= model.mean(axis=0)
    out = Path(__file__).resolve().parents[1] / "vtuber" / "data" / "face_model.npy"
    np.save(out, model.astype(np.float32))
    print(f"wrote {out} ({model.shape[0]} points)")
    tri = mesh_triangles()
    np.save(out.with_name("face_triangles.npy"), tri)
    print(f"wrote {out.with_name('face_triangles.npy')} ({len(tri)} triangles)")


if __name__ == "__main__":
    main()
