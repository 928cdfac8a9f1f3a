"""The lines of the open sale: a small table on the Line API that repaints only the rows that changed.

Textual's DataTable throws away its whole render cache on every ``add_row``/``update_cell`` and keeps dozens of live
objects per row, so at the till each scan redrew every unchanged cell (2.5-6 ms frames) and fed the garbage
collector. ``SaleLinesView`` holds each row as a tuple of plain strings and one cached ``Strip``; ``set_rows()``
compares the new rows with the shown ones and marks dirty only the screen lines of rows whose cells changed, and of
the old and new cursor rows. A scan therefore repaints one to three lines (or, when it scrolls the view to the new
line, the visible rows from their cached strips).

It never takes the focus (the till's code field keeps it, so a scanner's keys always land there); the screen moves
the cursor (``move_cursor``) and a click on a row posts ``Clicked``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shopkeeper.text import safe


@dataclass(frozen=True)
class LineColumn:
    title: str
    width: int
    align: str = "left"  # left | right


Row = tuple[Hashable, tuple[str, ...]]  # key, cell texts


def _fit(text: str, width: int, align: str) -> str:
    text = safe(text)  # descriptions are data: control characters shown escaped, never sent to the terminal
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = " " * (width - cell_len(text))
    return pad + text if align == "right" else text + pad


class SaleLinesView(ScrollView, can_focus=False):
    """Rows of fixed-width columns under a header, a row cursor, zebra stripes; the cursor is kept in view."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"sale-lines--header", "sale-lines--cursor", "sale-lines--even-row"}

    # The look of the DataTable it replaces (its row cursor as shown while the table is not focused).
    DEFAULT_CSS = """
    SaleLinesView {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;
        & > .sale-lines--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .sale-lines--header { background: ansi_bright_blue; color: ansi_default; }
        & > .sale-lines--even-row { background: $surface-lighten-1 50%; }
        &:dark > .sale-lines--even-row { background: $surface-darken-1 40%; }
        & > .sale-lines--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        /* NO_COLOR greys the cursor's background to almost the stripes' grey: reverse video instead */
        &:nocolor > .sale-lines--cursor { text-style: reverse bold; }
    }
    """

    CURSOR_MARK: ClassVar[str] = "▸"
    """Drawn before the cursor row (in its first cell's padding), so the chosen line shows without colour too."""

    CELL_PADDING: ClassVar[int] = 1

    class Clicked(Message):
        """A row was clicked (the cursor is on it now)."""

        def __init__(self, view: SaleLinesView, key: Hashable) -> None:
            super().__init__()
            self.view = view
            self.key = key

        @property
        def control(self) -> SaleLinesView:
            return self.view

    def __init__(self, columns: Sequence[LineColumn], *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = tuple(columns)
        self._rows: list[Row] = []
        self._cursor = 0
        # per row index: (cells, kind, strip) of the last paint; kind 0 even row (striped), 1 odd row, 2 cursor
        self._strips: list[tuple[tuple[str, ...], int, Strip] | None] = []
        self._header: Strip | None = None
        self._styles: tuple[Style, Style, Style, Style] | None = None  # even, odd, cursor, header
        self._width = -1

    # -- public -----------------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def keys(self) -> list[Hashable]:
        return [key for key, _ in self._rows]

    def get_row(self, index: int) -> tuple[str, ...]:
        """The cell texts of row ``index``, as shown (before padding and truncation)."""
        return self._rows[index][1]

    @property
    def cursor_row(self) -> int | None:
        """Index of the row under the cursor (None when there are no rows)."""
        return self._cursor if self._rows else None

    @property
    def cursor_key(self) -> Hashable | None:
        return self._rows[self._cursor][0] if self._rows else None

    def set_rows(self, rows: Sequence[Row], cursor_key: Hashable | None = None) -> None:
        """Show ``rows``; put the cursor on ``cursor_key`` (else it stays on its index, within the rows) and scroll it
        into view. Only lines whose row, stripe or cursor changed are repainted."""
        old = self._rows
        rows = list(rows)
        dirty = set()
        for i, row in enumerate(rows):
            if i < len(old) and old[i] == row:
                rows[i] = old[i]  # the shown tuple: its cached strip is still good
            else:
                dirty.add(i)
        dirty.update(range(len(rows), len(old)))  # rows gone: their lines become blank
        self._rows = rows
        if len(self._strips) > len(rows):
            del self._strips[len(rows):]
        cursor = self._cursor
        if cursor_key is not None:
            for i, (key, _) in enumerate(rows):
                if key == cursor_key:
                    cursor = i
                    break
        cursor = max(0, min(cursor, len(rows) - 1))
        if cursor != self._cursor or len(old) != len(rows):
            dirty.update((self._cursor, cursor))
        self._cursor = cursor
        if len(old) != len(rows):
            self.virtual_size = Size(self.virtual_size.width, len(rows) + 1)
        if not self._scroll_cursor_into_view():
            self._refresh_rows(dirty)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on row ``row`` (clamped to the rows) and scroll it into view."""
        if not self._rows:
            return
        row = max(0, min(row, len(self._rows) - 1))
        if row == self._cursor:
            return
        old, self._cursor = self._cursor, row
        if not self._scroll_cursor_into_view():
            self._refresh_rows((old, row))

    # -- geometry ---------------------------------------------------------------------------------------------

    @property
    def _body_height(self) -> int:
        """Rows that fit under the header."""
        return max(self.scrollable_content_region.height - 1, 1)

    def _scroll_cursor_into_view(self) -> bool:
        """Scroll so that the cursor row is visible; True if the view scrolled (the whole view repaints then)."""
        top = round(self.scroll_y)
        height = self._body_height
        target = top
        if self._cursor < top:
            target = self._cursor
        elif self._cursor >= top + height:
            target = self._cursor - height + 1
        target = max(0, min(target, max(len(self._rows) - height, 0)))
        if target == top:
            return False
        # forced: the scrollbar of the first row past the bottom shows only at the next layout, and until then
        # an unforced scroll is refused (the new row would stay out of view)
        self.scroll_to(y=target, animate=False, immediate=True, force=True)
        return round(self.scroll_y) != top

    def _refresh_rows(self, indices) -> None:
        top = round(self.scroll_y)
        height = self._body_height
        width = self.scrollable_content_region.width
        regions = [Region(0, i - top + 1, width, 1) for i in sorted(set(indices)) if top <= i < top + height]
        if regions:
            self.refresh(*regions)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._rows) + 1)
        self._scroll_cursor_into_view()

    def on_mount(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._rows) + 1)

    def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = round(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self._rows):
            self.move_cursor(index)
            self.post_message(self.Clicked(self, self._rows[index][0]))

    # -- painting ---------------------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._header = None
        self._strips.clear()

    def _get_styles(self) -> tuple[Style, Style, Style, Style]:
        if self._styles is None:
            base = self.rich_style
            self._styles = (self.get_component_rich_style("sale-lines--even-row"), base,
                            self.get_component_rich_style("sale-lines--cursor"),
                            self.get_component_rich_style("sale-lines--header"))
        return self._styles

    def _strip(self, cells: Sequence[str], style: Style, width: int, *, cursor: bool = False) -> Strip:
        pad = " " * self.CELL_PADDING
        text = "".join(pad + _fit(cell, column.width, column.align) + pad
                       for cell, column in zip(cells, self.columns, strict=False))
        if cursor and self.CELL_PADDING:
            text = self.CURSOR_MARK + text[1:]
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            self._header = None
            self._strips.clear()
        even, odd, cursor, header = self._get_styles()
        if y == 0:
            if self._header is None:
                self._header = self._strip([c.title for c in self.columns], header, width)
            return self._header
        index = round(self.scroll_y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, odd)
        cells = self._rows[index][1]
        kind = 2 if index == self._cursor else index % 2  # row 0 is an even (striped) row, as in DataTable
        strips = self._strips
        if index < len(strips):
            cached = strips[index]
            if cached is not None and cached[0] is cells and cached[1] == kind:
                return cached[2]
        else:
            strips.extend([None] * (index + 1 - len(strips)))
        strip = self._strip(cells, (even, odd, cursor)[kind], width, cursor=kind == 2)
        strips[index] = (cells, kind, strip)
        return strip
