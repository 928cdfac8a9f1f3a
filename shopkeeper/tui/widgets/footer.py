"""``ShopFooter``: Textual's footer, showing only the keys that fit whole.

Textual's ``Footer`` lays every key out in a row that scrolls under the command palette key docked on the right.
At 80 columns most screens have more keys than fit: the last visible key was cut mid-word (``^l Line di▏``) and a
letter of the next hidden key showed past the palette key at the right edge (``^p paletten``). This footer leaves
out the keys that would not fit whole, from the first one that does not (the order of the bindings is their
importance); every key stays in the help screen and the command palette.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class ShopFooter(Footer):
    """A ``Footer`` that never cuts a key: keys are left out from the first one that does not fit."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._composed_width = -1

    def _key_width(self, key_display: str, description: str) -> int:
        """Cells a ``FooterKey`` takes (as Textual's footer CSS pads it), without its margin."""
        keys, text = cell_len(key_display), cell_len(description)
        if self.compact:  # key unpadded; the description has one space before it
            return keys + (1 + text if description else 0)
        return keys + 2 + (text + 1 if description else 0)  # " key " then "description "

    def _palette_width(self) -> int:
        """Cells of the command palette key on the right (its left border and its margin included), 0 when it is
        not shown."""
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return 0
        active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if active is None:
            return 0
        binding = active[1]
        width = 1 + self._key_width(self.app.get_key_display(binding), binding.description)
        return width + 1  # compact: its right margin (as every key's); else its right padding

    def compose(self) -> ComposeResult:
        width = self.size.width
        self._composed_width = width
        room = width - self._palette_width() if width else None
        gap = 1 if self.compact else 0  # FooterKey's right margin in the compact footer
        used, full = 0, False
        for widget in super().compose():
            if room is not None and isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                need = self._key_width(widget.key_display, widget.description)
                full = full or used + need > room
                if full:
                    continue
                used += need + gap
            yield widget

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._composed_width and self._bindings_ready:
            self.call_after_refresh(self.recompose)
