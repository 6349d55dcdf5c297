"""Shapes of the body map and the dermatome picture (SVG, drawn by the templates).

The body map's regions answer the "where" question's options: each region names the option it
chooses and is one labelled box, big enough to tap on a phone. There are two pictures, the back
and the front, each in a 200-unit-wide box: on a 375 px phone a picture is about 300 px wide, so
a unit is about 1.5 px and the smallest region (32 units) is about 48 px, over the 44 px WCAG
asks of a target. Sketches, not anatomy: they only have to let a person point.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

__all__ = ["BODY_MAP", "LEG_DERMATOMES", "OUTLINES", "VIEWS", "Region", "label_layout", "label_lines"]

#: The smallest side of a region, in picture units (see the module's note).
MIN_SIDE = 32
#: Label text size and the width of an average character at that size, in picture units.
FONT_SIZE = 11
CHAR_WIDTH = 6.2


@dataclass(frozen=True)
class Region:
    option: str  # the "where" question's option this region chooses
    view: str  # "back" or "front"
    x: int
    y: int
    width: int
    height: int
    upright: bool = False  # the label runs up the region (a tall, narrow arm)

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


#: The two pictures: (view, height of its box).
VIEWS = (("back", 420), ("front", 340))

BODY_MAP = (
    Region("shoulder_blade", "back", 60, 62, 80, 40),
    Region("mid_back", "back", 60, 106, 80, 40),
    Region("lower_back", "back", 60, 150, 80, 40),
    Region("buttock", "back", 60, 194, 80, 38),
    Region("arm", "back", 15, 66, 32, 160, upright=True),
    Region("leg", "back", 56, 240, 40, 104),
    Region("both_legs", "back", 56, 350, 88, 50),
    Region("chest_band", "front", 58, 96, 84, 56),
    Region("outer_thigh", "front", 18, 240, 80, 56),
)


def label_lines(region: Region, label: str) -> list[str]:
    """The label broken into lines that fit across the region (up it, for an upright one)."""
    return label_layout(region, label)[0]


def label_layout(region: Region, label: str) -> tuple[list[str], bool]:
    """The label's lines, and whether they run up the region: an upright region's always, and a
    narrow region's when one of its words is too long to fit across (Spanish "pierna" in the leg).
    A word is never cut."""
    upright = region.upright or any(len(w) > _chars(region.width) for w in label.split())
    across = region.height if upright else region.width
    return textwrap.wrap(label, width=_chars(across), break_long_words=False) or [label], upright


def _chars(across: int) -> int:
    """How many characters of a label fit across `across` units."""
    return max(4, int((across - 6) / CHAR_WIDTH))


def _round_rect(x: int, y: int, w: int, h: int, r: int) -> str:
    return (
        f"M{x + r} {y}h{w - 2 * r}a{r} {r} 0 0 1 {r} {r}v{h - 2 * r}a{r} {r} 0 0 1 {-r} {r}"
        f"h{-(w - 2 * r)}a{r} {r} 0 0 1 {-r} {-r}v{-(h - 2 * r)}a{r} {r} 0 0 1 {r} {-r}z"
    )


def _ellipse(cx: int, cy: int, rx: int, ry: int) -> str:
    return f"M{cx - rx} {cy}a{rx} {ry} 0 1 0 {2 * rx} 0a{rx} {ry} 0 1 0 {-2 * rx} 0z"


def _figure(leg_length: int) -> tuple[str, ...]:
    """A head, neck, trunk, two arms and two legs: the same figure for the back and the front."""
    return (
        _ellipse(100, 26, 18, 22),
        _round_rect(90, 44, 20, 14, 4),
        _round_rect(54, 54, 92, 184, 16),
        _round_rect(12, 58, 38, 196, 16),
        _round_rect(150, 58, 38, 196, 16),
        _round_rect(54, 232, 44, leg_length, 12),
        _round_rect(102, 232, 44, leg_length, 12),
    )


#: Not clickable: the figure drawn behind the regions, for each view.
OUTLINES = {"back": _figure(182), "front": _figure(104)}

#: Where each root's numbness lies on the lower leg and foot (front view of the right leg in a
#: 200 x 320 box): L4 inner shin to the inner ankle, L5 outer shin and top of the foot to the big
#: toe, S1 outer edge of the foot, little toe and sole.
LEG_DERMATOMES = {
    "outline": "M60 10h70l-4 230 40 40v30h-110l4-70z",
    "L4": "M62 120h28l-4 150h-26z",
    "L5": "M92 120h34l-2 120 24 24-60 26-2-40z",
    "S1": "M126 240l40 40v30h-40l-10-40z",
}
