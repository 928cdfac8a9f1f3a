"""Errors the shop can explain to a person.

Every error raised for bad input or a refused operation is a ``ShopError``: the CLI prints its message and exits 2,
the TUI shows it as a notification. Anything else is a bug and is allowed to surface as one.

Errors are data: besides the message, an error may say which ``field`` (a form field or CLI argument name, e.g.
``"price"``, ``"barcode"``, ``"quantity"``), the ``reason`` in a few words without the field's name, the ``value``
that was refused, and the ``line`` (a sale line id, a CSV line number) it belongs to. A screen puts ``reason`` next
to ``field``; nothing parses the message text back.
"""

from __future__ import annotations


class ShopError(Exception):
    """A problem a person can fix: the message says what and where."""

    def __init__(self, message: str = "", *, field: str | None = None, reason: str | None = None,
                 value: object = None, line: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason if reason is not None else message
        self.value = value
        self.line = line

    @property
    def message(self) -> str:
        return str(self)


class NotFound(ShopError):
    """An unknown product, sale, supplier, staff member, ..."""


class InvalidInput(ShopError):
    """A value that cannot be accepted (bad quantity, missing reason, malformed money)."""


class StockRefused(ShopError):
    """The negative-stock policy refused a movement."""


class ConfigError(ShopError):
    """A broken configuration file."""
