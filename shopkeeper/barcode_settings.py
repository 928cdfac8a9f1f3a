"""The ``[barcodes]`` config section: in-store codes and variable-measure (scale label) layouts.

Plain frozen dataclasses with a default for every field; ``shopkeeper.config`` validates TOML into them from the
type hints. ``__post_init__`` raises ``ValueError`` for values the type alone cannot refuse (the config loader turns
that into a ConfigError naming the key).

Example::

    [barcodes]
    in_store_prefix = "20"

    [[barcodes.variable_measure]]   # a deli scale printing 28 IIII C VVVVV X: item 4 digits, weight in grams
    prefix = "28"
    measure = "weight"
    pattern = "PPIIIICVVVVV"
    decimals = 3
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RCN_PREFIXES = ("02", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29")
"""GS1 restricted-circulation prefixes of an EAN-13 a shop may use for its own codes."""


@dataclass(frozen=True)
class VariableMeasureLayout:
    """How one restricted-circulation prefix embeds a price, weight or count in an EAN-13.

    The ``pattern`` describes the first 12 digits (the 13th is always the EAN check digit):
    ``P`` the two prefix digits, ``I`` the item number, ``C`` a price/weight check digit (GS1 4- or 5-digit
    algorithm) when the scale prints one, ``V`` the value, ``0`` a digit that is always zero.
    """

    prefix: str = "28"
    # Two-digit GS1 restricted-circulation prefix this layout applies to: "02" or "20".."29".
    measure: Literal["price", "weight", "count"] = "weight"
    # What the V digits hold: a price (→ integer minor units), a weight in kg (→ integer grams = thousandths of a
    # kg) or a count of pieces (→ integer thousandths of a piece, i.e. count * 1000).
    pattern: str = "PPIIIIICVVVV"
    # 12 characters over the first 12 digits: PP prefix, I item number, C value check digit (optional), V value.
    decimals: int = 3
    # Digits after the decimal point in the V digits: 2 for a price in cents, 3 for a weight in grams (kg with 3
    # decimals), 0 for whole counts or a price in whole units.
    name: str = ""
    # Free text shown in messages ("deli scale").

    def __post_init__(self) -> None:
        if self.prefix not in RCN_PREFIXES:
            raise ValueError(f"variable_measure prefix {self.prefix!r} is not a restricted-circulation prefix "
                             f"(02 or 20-29)")
        p = self.pattern
        if len(p) != 12 or set(p) - set("PICV0"):
            raise ValueError(f"variable_measure pattern {p!r} must be 12 characters of P, I, C, V and 0")
        if not p.startswith("PP") or p.count("P") != 2:
            raise ValueError(f"variable_measure pattern {p!r} must start with exactly two P (the prefix)")
        for ch in "IV":
            if ch not in p:
                raise ValueError(f"variable_measure pattern {p!r} needs at least one {ch}")
            if p.rindex(ch) - p.index(ch) + 1 != p.count(ch):
                raise ValueError(f"variable_measure pattern {p!r}: the {ch} digits must be contiguous")
        if p.count("C") > 1:
            raise ValueError(f"variable_measure pattern {p!r}: at most one C (value check digit)")
        if "C" in p and p.count("V") not in (4, 5):
            raise ValueError(f"variable_measure pattern {p!r}: a value check digit (C) needs 4 or 5 V digits")
        if self.decimals > 6:
            raise ValueError(f"variable_measure decimals {self.decimals} is more than 6")

    def slice_of(self, ch: str) -> slice | None:
        """Where the digits marked ``ch`` sit in the 13-digit code (None if absent)."""
        if ch not in self.pattern:
            return None
        return slice(self.pattern.index(ch), self.pattern.rindex(ch) + 1)


@dataclass(frozen=True)
class BarcodeSettings:
    """The ``[barcodes]`` section."""

    in_store_prefix: str = "20"
    # Prefix for EAN-13 codes the shop assigns to goods without a barcode ("02" or "20".."29"). Keep it different
    # from every variable_measure prefix, or in-store codes would be read as prices/weights.
    variable_measure: tuple[VariableMeasureLayout, ...] = ()
    # Scale/price label layouts, one [[barcodes.variable_measure]] table per prefix. Empty: codes 02/20-29 are
    # treated as plain in-store item codes.
    strict_check_digits: bool = True
    # Refuse an 8/12/13/14-digit numeric code whose GTIN check digit is wrong. Turn off only if the shop uses
    # numeric internal codes of those lengths that are not GTINs.

    def __post_init__(self) -> None:
        if self.in_store_prefix not in RCN_PREFIXES:
            raise ValueError(f"in_store_prefix {self.in_store_prefix!r} is not a restricted-circulation prefix "
                             f"(02 or 20-29)")
        seen: set[str] = set()
        for layout in self.variable_measure:
            if layout.prefix in seen:
                raise ValueError(f"variable_measure: prefix {layout.prefix} is listed twice")
            seen.add(layout.prefix)
        if self.in_store_prefix in seen:
            raise ValueError(f"in_store_prefix {self.in_store_prefix} is also a variable_measure prefix")
