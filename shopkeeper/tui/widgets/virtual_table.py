"""A table that shows only the rows in view, read from the database a window at a time (the Line API).

Textual's DataTable keeps every row in memory (100k rows freeze it for ~25 s). ``VirtualTable`` asks a
``TableSource`` for rows ``[top, top + height)`` when it paints, and for the full index (the ordered keys, or just
the row count) in a thread worker. Until the index arrives the table pages by ``OFFSET``.

``reload()`` re-reads after a change (the same query: the cursor stays on the same row key and the scroll
position stays where it was); ``reset()`` starts over for a new query (filter or sort) at the top.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import on
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from shopkeeper.models import database
from shopkeeper.text import safe


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int = 0  # 0: takes the remaining width (at least ``min_width``)
    align: str = "left"  # left | right
    min_width: int = 8


Cell = tuple[str, str]  # text (plain: never markup), and a style name ("" or a component class suffix)


class TableSource(Protocol):
    """Where a ``VirtualTable`` reads its rows. ``load_index`` runs in a thread (with its own connection); the rest
    run on the event loop and must stay fast (a LIMIT window)."""

    columns: Sequence[Column]

    def load_index(self) -> Any: ...

    def index_count(self, index: Any) -> int: ...

    def window(self, index: Any | None, offset: int, limit: int) -> list[Any]: ...

    def position(self, index: Any, key: Any) -> int | None: ...

    def cells(self, row: Any) -> list[Cell]: ...

    def row_style(self, row: Any) -> str: ...


class CountIndex:
    """Mixin for sources whose index is just the row count (paging is by OFFSET)."""

    def index_count(self, index: Any) -> int:
        return int(index)

    def position(self, index: Any, key: Any) -> int | None:
        return None

    def row_style(self, row: Any) -> str:
        return ""


class VirtualTable(ScrollView, can_focus=True):
    """A keyboard-driven table over a ``TableSource``. Posts ``Highlighted`` and ``Selected`` (Enter)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header", "virtual-table--cursor", "virtual-table--low", "virtual-table--out",
        "virtual-table--muted", "virtual-table--good", "virtual-table--bad", "virtual-table--sorted",
    }

    DEFAULT_CSS = """
    VirtualTable {
        width: 1fr;  /* a ScrollView's auto width is its virtual width, which this table sets from its width */
        height: 1fr;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    VirtualTable > .virtual-table--header { text-style: bold underline; color: $text; }
    VirtualTable > .virtual-table--sorted { text-style: bold underline reverse; }
    VirtualTable > .virtual-table--cursor { text-style: reverse; }
    VirtualTable:focus > .virtual-table--cursor { text-style: bold reverse; }
    VirtualTable > .virtual-table--low { color: $warning; }
    VirtualTable > .virtual-table--out { color: $error; text-style: bold; }
    VirtualTable > .virtual-table--muted { color: $text-muted; }
    VirtualTable > .virtual-table--good { color: $success; }
    VirtualTable > .virtual-table--bad { color: $error; }
    /* NO_COLOR: Textual greys every colour, and the error red of an out-of-stock row became dark grey on black.
       The row's mark and word (✗ OUT, ▼ LOW) say what it is; out rows are bold, in the text's own colour. */
    VirtualTable:nocolor > .virtual-table--out { color: $foreground; text-style: bold; }
    VirtualTable:nocolor > .virtual-table--low { color: $foreground; }
    /* the same for good and bad rows (a line received in full, an over-delivery): their words say which */
    VirtualTable:nocolor > .virtual-table--bad { color: $foreground; text-style: bold; }
    VirtualTable:nocolor > .virtual-table--good { color: $foreground; }
    """

    class _TableMessage(Message):
        """A message about this table; ``control`` makes ``@on(..., "#id")`` selectors work."""

        def __init__(self, table: VirtualTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Highlighted(_TableMessage):
        def __init__(self, table: VirtualTable, row: Any) -> None:
            super().__init__(table)
            self.row = row

    class Selected(_TableMessage):
        def __init__(self, table: VirtualTable, row: Any) -> None:
            super().__init__(table)
            self.row = row

    class Loaded(_TableMessage):
        """The index (row count) finished loading."""

        def __init__(self, table: VirtualTable, count: int) -> None:
            super().__init__(table)
            self.count = count

    def __init__(self, source: TableSource, *, sort_key: str = "", empty_text: str = "nothing to show",
                 eager: bool = True, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        """``eager``: read the first window on mount, so the first frame has rows; else just after the first
        frame is painted (for a table that must not delay the screen's first frame)."""
        super().__init__(name=name, id=id, classes=classes)
        self.source = source
        self.eager = eager
        self.sort_key = sort_key
        self.empty_text = empty_text
        self.cursor = 0
        self._index: Any | None = None
        self._count = 0
        self._count_known = False
        self._rows: dict[int, Any] = {}
        self._token = 0
        self._cursor_key: Any = None
        self._keep_key = False
        self._index_timer = None
        self._last_wanted = False  # End pressed before the row count was known: go to the last row once it is

    INDEX_DELAY = 0.12
    """Seconds of quiet after a new query before the index is read in a thread."""

    # -- public -----------------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return self._count

    @property
    def count_known(self) -> bool:
        return self._count_known

    @property
    def cursor_row(self) -> Any | None:
        return self._row_at(self.cursor) if self._count else None

    @property
    def page_height(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def reset(self) -> None:
        """A new query: drop the index, go to the top, read the first window now and the index in a thread. An
        index still being loaded for the old query is dropped when it arrives (its token is stale)."""
        self._token += 1
        self._index = None
        self._cursor_key = None
        self._keep_key = False
        self._last_wanted = False
        self.cursor = 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self._read_now(provisional=True)
        # The full index waits for typing to pause: each keystroke pays only for its first window.
        if self._index_timer is not None:
            self._index_timer.stop()
        self._index_timer = self.set_timer(self.INDEX_DELAY, self._load_index)

    def reload(self) -> None:
        """The same query after a change: keep the cursor on the same row key and the scroll position.

        A second change before the first reload's index arrives (a commit of ours, then the poll seeing it) keeps
        the key remembered first: the row now under the cursor may already be another product."""
        if not self._keep_key:
            row = self.cursor_row
            row_key = getattr(self.source, "row_key", None)  # a source may name rows that have no ``key``
            self._cursor_key = (row_key(row) if row_key else getattr(row, "key", None)) if row is not None else None
            self._keep_key = self._cursor_key is not None
        self._rows.clear()
        self.refresh()
        self._load_index()

    def set_sort(self, sort_key: str) -> None:
        self.sort_key = sort_key
        self.refresh()

    # -- reading ----------------------------------------------------------------------------------------------

    def _read_now(self, *, provisional: bool) -> None:
        height = max(self.page_height, 20)
        rows = self.source.window(self._index, 0, height + 1)
        self._rows = dict(enumerate(rows[:height]))
        if provisional:
            self._count = len(rows)
            self._count_known = len(rows) <= height
        self._sync_size()
        self.refresh()
        self._post_highlight()

    def _load_index(self) -> None:
        self._token += 1
        token, source = self._token, self.source

        def load() -> None:
            with database.connection_context():
                index = source.load_index()
            self.app.call_from_thread(self._index_loaded, token, index)

        self.run_worker(load, thread=True, exclusive=True, group=f"table-index-{id(self)}", exit_on_error=False)

    def _index_loaded(self, token: int, index: Any) -> None:
        if token != self._token or not self.is_attached:
            return
        self._index = index
        self._count = self.source.index_count(index)
        self._count_known = True
        self._rows.clear()
        if self._keep_key and self._cursor_key is not None:
            pos = self.source.position(index, self._cursor_key)
            if pos is not None and pos != self.cursor:
                shift = pos - self.cursor
                self.cursor = pos
                self._sync_size()
                self.scroll_to(y=self.scroll_y + shift, animate=False, immediate=True)
        self._keep_key = False
        if self._last_wanted:
            self._last_wanted = False
            self.cursor = self._count - 1
        self.cursor = max(0, min(self.cursor, self._count - 1))
        self._sync_size()
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Loaded(self, self._count))
        self._post_highlight()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            event.stop()
            self.notify(f"could not read the table: {event.worker.error}", severity="error")

    def _row_at(self, index: int) -> Any | None:
        if index < 0 or index >= self._count:
            return None
        if index not in self._rows:
            self._fetch_around(index)
        return self._rows.get(index)

    def _fetch_around(self, index: int) -> None:
        height = self.page_height
        top = int(self.scroll_y)
        start = top if top <= index < top + height else max(index - height // 2, 0)
        rows = self.source.window(self._index, start, height)
        if len(self._rows) > 2000:
            self._rows.clear()
        for n, row in enumerate(rows):
            self._rows[start + n] = row

    def _sync_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self._count + 1)

    def on_mount(self) -> None:
        if self.eager:
            self.reset()  # the first window is read at once (at least 20 rows), so the first frame has rows
        else:
            self._count_known = False
            self.call_after_refresh(self._first_read)

    def _first_read(self) -> None:
        if self._token == 0 and self.is_attached:  # nothing has read it yet (a reload() would have)
            self.reset()

    def on_resize(self) -> None:
        self._sync_size()

    # -- cursor -----------------------------------------------------------------------------------------------

    def _move_to(self, index: int) -> None:
        if not self._count:
            return
        index = max(0, min(index, self._count - 1))
        if index != self.cursor:
            self.cursor = index
            self._scroll_cursor_into_view()
            self.refresh()
            self._post_highlight()

    def _scroll_cursor_into_view(self) -> None:
        height = self.page_height
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _post_highlight(self) -> None:
        self.post_message(self.Highlighted(self, self.cursor_row))

    def action_cursor(self, delta: int) -> None:
        self._last_wanted = False
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        """PgDn/PgUp: the cursor and the rows move a page together, so the cursor keeps its line on screen (at the
        ends, the view stops and the cursor goes on to the first or last row)."""
        self._last_wanted = False
        if not self._count:
            return
        step = direction * self.page_height
        target = max(0, min(self.cursor + step, self._count - 1))
        if target == self.cursor:
            return
        self.scroll_to(y=max(int(self.scroll_y) + step, 0), animate=False, immediate=True)
        self._move_to(target)

    def action_first(self) -> None:
        self._last_wanted = False
        self._move_to(0)

    def action_last(self) -> None:
        """End: the last row. Until the row count is known (the index is read in a thread just after a new
        query) the last row read so far, and the true last row as soon as the count arrives."""
        self._last_wanted = not self._count_known
        self._move_to(self._count - 1)

    def action_select(self) -> None:
        row = self.cursor_row
        if row is not None:
            self.post_message(self.Selected(self, row))

    # -- painting ---------------------------------------------------------------------------------------------

    def _widths(self, width: int) -> list[int]:
        columns = self.source.columns
        fixed = sum(c.width for c in columns) + len(columns) - 1
        flex = [c for c in columns if not c.width]
        spare = max(width - fixed, 0)
        share, extra = divmod(spare, len(flex)) if flex else (0, 0)
        widths = []
        for c in columns:
            if c.width:
                widths.append(c.width)
            else:  # the spare cells shared out, the first flexible columns taking the remainder
                widths.append(max(share + (1 if extra > 0 else 0), c.min_width))
                extra -= 1
        return widths

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"virtual-table--{name}", partial=True)

    def _line(self, cells: list[Cell], widths: list[int], base: Style, width: int,
              cell_styles: list[Style] | None = None) -> Strip:
        segments: list[Segment] = []
        for n, ((text, style_name), w, column) in enumerate(zip(cells, widths, self.source.columns, strict=False)):
            if n:
                segments.append(Segment(" ", base))
            text = safe(text)  # cells are data: control characters shown escaped, never sent to the terminal
            if cell_len(text) > w:
                text = set_cell_size(text, w - 1) + "…" if w > 1 else set_cell_size(text, w)
            pad = " " * (w - cell_len(text))
            text = pad + text if column.align == "right" else text + pad
            style = base
            if cell_styles is not None:
                style = base + cell_styles[n]
            elif style_name:
                style = base + self._style(style_name)
            segments.append(Segment(text, style))
        strip = Strip(segments)
        return strip.adjust_cell_length(width, base)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        widths = self._widths(width)
        base = self.rich_style
        if y == 0:
            header = self._style("header")
            sorted_style = self._style("sorted")
            cells = [(c.title, "") for c in self.source.columns]
            styles = [sorted_style if c.key == self.sort_key else Style() for c in self.source.columns]
            return self._line(cells, widths, base + header, width, styles)
        index = int(self.scroll_y) + y - 1
        if index >= self._count:
            if self._count == 0 and y == 1:
                text = self.empty_text if self._count_known else "…"
                return Strip([Segment(text, base + self._style("muted"))]).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        row = self._row_at(index)
        if row is None:
            return Strip([Segment("…", base + self._style("muted"))]).adjust_cell_length(width, base)
        row_style = self.source.row_style(row)
        style = base + self._style(row_style) if row_style else base
        if index == self.cursor:
            style = style + self._style("cursor")
        return self._line(self.source.cells(row), widths, style, width)
