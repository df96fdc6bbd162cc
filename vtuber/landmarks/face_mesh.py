"""The MediaPipe face mesh's landmark indices that vtuber uses: the one table of them.

Sides are the PERSON's own (``_L`` = the person's left, which is the image's right in an
un-mirrored camera). Indices 0-467 are the mesh, 468-477 the irises (refine_landmarks): each iris
is its centre followed by four boundary points. No mediapipe import here: solvers and the
synthetic renderer use this table without the model.
"""

from __future__ import annotations

# Eyes: corners, iris centres, and each eye's lids from the outer to the inner corner (corners
# excluded), upper and lower paired point for point.
EYE_OUTER_L, EYE_OUTER_R = 263, 33
EYE_INNER_L, EYE_INNER_R = 362, 133
IRIS_L, IRIS_R = 473, 468
UPPER_LID_L = (466, 388, 387, 386, 385, 384, 398)
LOWER_LID_L = (249, 390, 373, 374, 380, 381, 382)
UPPER_LID_R = (246, 161, 160, 159, 158, 157, 173)
LOWER_LID_R = (7, 163, 144, 145, 153, 154, 155)

# Brows: upper-edge points, inner then outer end.
BROW_L = (336, 300)
BROW_R = (107, 70)
# Each brow's whole outline: its upper edge from the inner to the outer end, then its lower edge
# from the inner to the outer end.
BROW_OUTLINE_L = (336, 296, 334, 293, 300, 285, 295, 282, 283, 276)
BROW_OUTLINE_R = (107, 66, 105, 63, 70, 55, 65, 52, 53, 46)

# Mouth: corners; the inner and outer lip contours at the centre and either side (upper, then
# the lower points below them); the upper and lower inner lips from corner to corner (paired:
# the i-th upper point lies above the i-th lower one).
MOUTH_CORNER_L, MOUTH_CORNER_R = 291, 61
LIP_INNER_UPPER = (82, 13, 312)
LIP_INNER_LOWER = (87, 14, 317)
LIP_OUTER_UPPER = (37, 0, 267)
LIP_OUTER_LOWER = (84, 17, 314)
UPPER_LIP_TOP = 0
INNER_LIP_UP = 13
UPPER_INNER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
# The outer lip contour as one closed polygon: from the person's right mouth corner over the upper
# lip and back under the lower lip.
OUTER_LIP_CONTOUR = (
    61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146,
)  # fmt: skip
LOWER_INNER_LIP = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)

# The face's outline (it slides along the cheek as the head turns) and all lip points (they move
# with speech): left out of the head pose fit.
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
LIPS = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409,
    78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415,
)  # fmt: skip
