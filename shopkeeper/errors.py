"""Errors the shop can explain to a person.

Every error raised for bad input or a refused operation is a ``ShopError``: the CLI prints its message and exits 2,
the TUI shows it as a notification. Anything else is a bug and is allowed to surface as one.
"""


class ShopError(Exception):
    """A problem a person can fix: the message says what and where."""


class NotFound(ShopError):
    """An unknown product, sale, supplier, staff member, ..."""


class InvalidInput(ShopError):
    """A value that cannot be accepted (bad quantity, missing reason, malformed money)."""


class StockRefused(ShopError):
    """The negative-stock policy refused a movement."""


class ConfigError(ShopError):
    """A broken configuration file."""
