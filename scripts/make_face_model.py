"""Build vtuber's generic 3D face model (vtuber/data/face_model.npy) from real photos.

The model is the 478 FaceMesh landmarks (iris included) of real frontal faces shipped by packages
vtuber's tests already use (matplotlib's grace_hopper.jpg, scikit-image's astronaut), in MediaPipe's
axes (x right, y down, z away from the camera), each face scaled so that the outer eye corners are
9 cm apart, aligned to the first by a similarity transform, averaged, and made left/right symmetric.
Units: centimetres, origin at the mean of the points.

Run: python scripts/make_face_model.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vtuber.landmarks.facemesh import FaceMeshBackend
from vtuber.solvers.head import EYE_OUTER_L, EYE_OUTER_R, mirror_pairs, similarity_align


def photos() -> list[np.ndarray]:
    import matplotlib.cbook as cbook
    import skimage.data

    grace = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    astro = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    return [grace, astro]


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


if __name__ == "__main__":
    main()
