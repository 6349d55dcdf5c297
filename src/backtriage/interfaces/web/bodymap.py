"""Shapes of the body map and the dermatome picture (SVG, drawn by the templates).

The body map's regions answer the "where" question's options: each region names the option it
chooses. Coordinates are in a 400 x 400 box: the back view on the left, the front view on the
right. Sketches, not anatomy: they only have to let a person point.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BODY_MAP", "LEG_DERMATOMES", "OUTLINES", "Region"]


@dataclass(frozen=True)
class Region:
    option: str  # the "where" question's option this region chooses
    view: str  # "back" or "front"
    shapes: tuple[str, ...]  # SVG path data


def _rect(x: int, y: int, w: int, h: int) -> str:
    return f"M{x} {y}h{w}v{h}h{-w}z"


def _ellipse(cx: int, cy: int, rx: int, ry: int) -> str:
    return f"M{cx - rx} {cy}a{rx} {ry} 0 1 0 {2 * rx} 0a{rx} {ry} 0 1 0 {-2 * rx} 0z"


BODY_MAP = (
    Region("shoulder_blade", "back", (_ellipse(78, 92, 15, 19), _ellipse(122, 92, 15, 19))),
    Region("mid_back", "back", (_rect(80, 116, 40, 38),)),
    Region("lower_back", "back", (_rect(80, 157, 40, 32),)),
    Region("buttock", "back", (_ellipse(86, 206, 15, 15), _ellipse(114, 206, 15, 15))),
    Region("leg", "back", (_rect(72, 226, 24, 150), _rect(104, 226, 24, 150))),
    Region("arm", "back", (_rect(38, 78, 18, 128), _rect(144, 78, 18, 128))),
    Region("chest_band", "front", (_rect(270, 118, 60, 28),)),
    Region("outer_thigh", "front", (_rect(266, 226, 14, 62), _rect(320, 226, 14, 62))),
)

#: Not clickable: heads, trunks and limbs drawn behind the regions, one per view.
OUTLINES = (
    _ellipse(100, 36, 20, 24),
    "M60 70h80l22 10v126h-18l-4-96v100l8 16v150h-36l-2-140-2 140h-36v-150l8-16v-100l-4 96h-18v-126z",
    _ellipse(300, 36, 20, 24),
    "M260 70h80l22 10v126h-18l-4-96v100l8 16v150h-36l-2-140-2 140h-36v-150l8-16v-100l-4 96h-18v-126z",
)

#: Where each root's numbness lies on the lower leg and foot (front view of the right leg in a
#: 200 x 320 box): L4 inner shin to the inner ankle, L5 outer shin and top of the foot to the big
#: toe, S1 outer edge of the foot, little toe and sole.
LEG_DERMATOMES = {
    "outline": "M60 10h70l-4 230 40 40v30h-110l4-70z",
    "L4": "M62 120h28l-4 150h-26z",
    "L5": "M92 120h34l-2 120 24 24-60 26-2-40z",
    "S1": "M126 240l40 40v30h-40l-10-40z",
}
