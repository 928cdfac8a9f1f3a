"""Text that came from data: what a stored text field may hold, and how any text is shown safely.

Names, SKUs, codes, reasons, notes, staff and supplier names come from people, CSV files and other programs. Such
text is data and must never become control: not terminal escape sequences (``ESC ] 2 ;`` retitles a terminal,
``ESC [ 2 J`` clears it, OSC 52 writes the clipboard), not printer commands (``ESC p`` opens an ESC/POS cash
drawer), not markup (Textual would parse ``[/x]`` and raise). Three functions, one job each:

* ``clean(value, field=...)``: the rule for a stored one-line text field, used at every place text is accepted
  (CSV import, catalog saves, stock movements, the till, staff and terminal names). Line breaks and tabs become a
  space (a quoted newline in a spreadsheet cell means a space in a product name); any other control character
  (C0, DEL, C1) is refused with an ``InvalidInput`` naming the field, the reason and the value.
* ``safe(text)``: the display form, for screens and the command line's text output. Every control character is
  shown as a backslash escape (``\\x1b``, ``\\n``, ``\\u2028``), the spelling Python's ``repr`` and our error
  messages already use. Chosen over symbols (``␛``, ``�``) because it is plain ASCII, so it shows on every terminal
  and font (the Linux console at a Raspberry Pi till has no Control Pictures glyphs), it says exactly which byte
  was there, and it survives a pipe into ``grep`` or a log. Databases written before the rule may hold anything,
  so display never relies on what import allowed.
* ``printable(text)``: the form for paper (receipts, labels): line breaks and tabs become a space, every other
  control character is dropped. A printer is no place for ``\\x1b``, and only the renderer emits printer commands.

Markup is not handled here: the TUI shows data as plain ``Content``, never parsed (``shopkeeper.tui.format``).
"""

from __future__ import annotations

import re

from shopkeeper.errors import InvalidInput

# C0 controls, DEL, C1 controls (Unicode category Cc), and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The controls that only break a line or space words: in a one-line field they mean a space.
_SPACING = re.compile("[\t\n\v\f\r\x85\u2028\u2029]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def escape(char: str) -> str:
    """One control character as its backslash escape: ``\\x1b``, ``\\n``, ``\\u2028``."""
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def safe(text: object) -> str:
    """``text`` fit to show on a terminal: every control character written as its backslash escape."""
    text = text if isinstance(text, str) else str(text)
    if _CONTROL.search(text) is None:  # the common case: nothing to do, no copy
        return text
    return _CONTROL.sub(lambda m: escape(m.group()), text)


def printable(text: str) -> str:
    """``text`` fit for paper: line breaks and tabs as a space, other control characters left out."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub("", _SPACING.sub(" ", text))


def is_clean(value: str) -> bool:
    """True when ``value`` has no control character at all: ``clean`` would store it as it is. (One check over a
    whole row's cells joined is cheaper than one per cell, for an import of a million rows.)"""
    return _CONTROL.search(value) is None


def clean(value: str, *, field: str) -> str:
    """The stored form of the one-line text field ``field``: line breaks and tabs become a space; any other control
    character is refused (``InvalidInput`` with ``field``, ``reason`` and ``value``). Surrounding spaces are the
    caller's business (most strip them)."""
    if _CONTROL.search(value) is None:
        return value
    text = _SPACING.sub(" ", value)
    bad = _CONTROL.search(text)
    if bad is None:
        return text
    reason = f"contains the control character {escape(bad.group())}, which cannot be stored: '{safe(value)}'"
    raise InvalidInput(f"{field}: {reason}", field=field, reason=reason, value=value)
