"""Page geometry of the print layouts, in PDF points (pure).

- ``a4``: 10 CR80 cards (85.6 × 54 mm, ISO/IEC 7810 ID-1) per A4 page, 2 columns × 5 rows butted
  together so that one straight cut separates two cards, centred, with cut marks in the margins.
- ``cr80``: one card per page at CR80 size for PVC card printers (no marks: the printer feeds cards).
"""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4
CARD_W, CARD_H = 85.6 * MM, 54 * MM
A4 = (210 * MM, 297 * MM)
MARK_GAP, MARK_LEN = 2 * MM, 6 * MM


@dataclass(frozen=True)
class Layout:
    name: str
    page: tuple[float, float]
    cols: int
    rows: int
    cut_marks: bool

    @property
    def per_page(self) -> int:
        return self.cols * self.rows

    @property
    def origin(self) -> tuple[float, float]:
        """Bottom-left corner of the card grid."""
        return (self.page[0] - self.cols * CARD_W) / 2, (self.page[1] - self.rows * CARD_H) / 2

    def slot(self, index: int) -> tuple[float, float]:
        """Bottom-left corner of the ``index``-th card of a page, filled left to right, top to bottom."""
        x0, y0 = self.origin
        row, col = divmod(index % self.per_page, self.cols)
        return x0 + col * CARD_W, y0 + (self.rows - 1 - row) * CARD_H

    def marks(self) -> list[tuple[float, float, float, float]]:
        """Cut-mark segments (x1, y1, x2, y2) outside the grid, one pair per cut line."""
        if not self.cut_marks:
            return []
        x0, y0 = self.origin
        x1, y1 = x0 + self.cols * CARD_W, y0 + self.rows * CARD_H
        out = []
        for i in range(self.cols + 1):
            x = x0 + i * CARD_W
            out += [(x, y0 - MARK_GAP, x, y0 - MARK_GAP - MARK_LEN), (x, y1 + MARK_GAP, x, y1 + MARK_GAP + MARK_LEN)]
        for j in range(self.rows + 1):
            y = y0 + j * CARD_H
            out += [(x0 - MARK_GAP, y, x0 - MARK_GAP - MARK_LEN, y), (x1 + MARK_GAP, y, x1 + MARK_GAP + MARK_LEN, y)]
        return out


LAYOUTS = {
    "a4": Layout("a4", A4, 2, 5, True),
    "cr80": Layout("cr80", (CARD_W, CARD_H), 1, 1, False),
}
