"""Other systems' product exports as data: one TOML file per system (``shopkeeper/import_profiles/*.toml``) maps
its column names to ours; a ``--map`` file is the same format. A profile is bound to a file's header once
(``Profile.bind``), and the binding turns each of its rows into our columns (``Binding.cells``).

A profile (or map file)::

    name = "Shopify"
    source = "where its columns are documented"
    recognise = [["Handle", "Variant SKU"]]       # a header with all of one list is this layout
    [columns]                                    # their column -> our field; several may feed one field:
    "Variant SKU" = "sku"                        #   the first non-empty wins, barcodes are all kept.
    "In stock [*]" = "on_hand"                   # * : one column per location, --location picks one
    "Tax - *" = "tax"                            # a tax column per tax ("Tax - VAT (9%)", cells Y/N): its rate
    [fixed]                                      # our field -> value, where no column gives one
    unit = "pcs"
    [values."Sold by weight"]                    # their cell -> our value ("" : none)
    Y = "kg"
    [variants]                                   # rows of one item, one product per variant
    group = ["Handle"]                           # the rows of an item share this (the first column present);
                                                 # a variant row's empty cells take its item's first row's
    options = ["Option1 Value"]                  # the variant's name: "Item – Red / L"
    single = ["Default Title"]                   # option values that mean "no variants"
    [rows]
    skip_when_empty = ["Variant SKU", "Variant Price"]   # rows with all of these empty are not products
    skip_when = { Type = ["variable"] }                  # nor rows with one of these values
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from shopkeeper.errors import ShopError

FIELDS = ("sku", "name", "barcode", "price", "cost", "unit", "tax", "reorder_point", "reorder_qty", "supplier",
          "category", "on_hand")
"""Our product list's columns (``products_csv.COLUMNS``)."""
CARRIED = ("name", "category", "supplier", "unit", "tax", "cost", "price")
"""Fields a variant row without a value of its own takes from its item's first row."""
SEPARATOR = " – "


class HeaderRejected(ShopError):
    """The file's header does not fit: one message for the whole file, nothing was read or changed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"line 1: header: {reason}", reason=reason, line=1)


@dataclass
class Profile:
    name: str
    columns: dict[str, str]
    source: str = ""
    recognise: list[list[str]] = field(default_factory=list)
    fixed: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    group: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    single: list[str] = field(default_factory=list)
    skip_when_empty: list[str] = field(default_factory=list)
    skip_when: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_toml(cls, data: dict, where: str) -> Profile:
        def fail(reason: str) -> ShopError:
            return ShopError(f"{where}: {reason}", reason=reason)

        columns = data.get("columns")
        if not isinstance(columns, dict) or not columns:
            raise fail('needs a [columns] table: "their column" = "our field"')
        fixed = data.get("fixed", {})
        for their, ours in [*columns.items(), *((f"[fixed] {k}", k) for k in fixed)]:
            if ours not in FIELDS:
                raise fail(f"{their!r} = {ours!r}: {ours!r} is not one of our fields ({', '.join(FIELDS)})")
        variants, rows = data.get("variants", {}), data.get("rows", {})
        try:
            return cls(name=str(data.get("name") or where), columns={str(k): str(v) for k, v in columns.items()},
                       source=str(data.get("source", "")), recognise=[list(r) for r in data.get("recognise", [])],
                       fixed={k: str(v) for k, v in fixed.items()},
                       values={k: {str(a): str(b) for a, b in v.items()} for k, v in data.get("values", {}).items()},
                       group=_names(variants.get("group", [])), options=list(variants.get("options", [])),
                       single=list(variants.get("single", [])), skip_when_empty=list(rows.get("skip_when_empty", [])),
                       skip_when={k: list(v) for k, v in rows.get("skip_when", {}).items()})
        except (AttributeError, TypeError, ValueError) as exc:
            raise fail(f"not a column map: {exc}") from None

    def matches(self, header: list[str]) -> bool:
        names = {h.strip().lower() for h in header}
        return any(all(c.lower() in names for c in needed) for needed in self.recognise)

    def bind(self, header: list[str], location: str | None = None) -> Binding:
        """Which of the file's columns feed each of our fields; a header that does not fit is one message."""
        lowered = [h.strip().lower() for h in header]
        sources: dict[str, list[tuple[int, str]]] = {}
        for their, ours in self.columns.items():
            pattern = their.lower()
            if "*" in pattern:
                wild = re.compile(re.escape(pattern).replace(r"\*", ".+"))  # "[" is a bracket, not a class
                hits = [i for i, h in enumerate(lowered) if wild.fullmatch(h)]
                if len(hits) > 1 and ours != "tax":
                    hits = [self._location(their, header, hits, location)]
            else:
                hits = [lowered.index(pattern)] if pattern in lowered else []
            sources.setdefault(ours, []).extend((i, their) for i in hits)
        missing = [f for f in ("sku", "name") if not sources.get(f) and f not in self.fixed]
        if missing:
            wanted = ", ".join(repr(t) for t, o in self.columns.items() if o in missing)
            raise HeaderRejected(f"no column for {' and '.join(missing)} (looked for {wanted}) in a {self.name} file")

        def index(name: str | None) -> int | None:
            return lowered.index(name.lower()) if name and name.lower() in lowered else None

        group = next((i for g in self.group if (i := index(g)) is not None), None)
        return Binding(self, sources, group, [i for o in self.options if (i := index(o)) is not None],
                       [i for c in self.skip_when_empty if (i := index(c)) is not None],
                       {i: set(v) for c, v in self.skip_when.items() if (i := index(c)) is not None},
                       {i: self.values[c] for c in self.values if (i := index(c)) is not None}, list(header))

    @staticmethod
    def _location(their: str, header: list[str], hits: list[int], location: str | None) -> int:
        prefix, _, suffix = their.lower().partition("*")
        names = {header[i].strip()[len(prefix): len(header[i].strip()) - len(suffix)].strip(" []"): i for i in hits}
        if location is not None:
            for name, i in names.items():
                if name.lower() == location.strip().lower():
                    return i
        choice = "; choose one with --location NAME" if location is None else f"; none is {location!r}"
        raise HeaderRejected(f"one column per location ({', '.join(header[i].strip() for i in hits)}): the shop's "
                             f"location is one of {', '.join(names)}{choice}")

    def describe(self) -> str:
        return self.name + (f" ({self.source})" if self.source else "")


@dataclass
class Binding:
    profile: Profile
    sources: dict[str, list[tuple[int, str]]]
    group: int | None
    options: list[int]
    skip_empty: list[int]
    skip_values: dict[int, set[str]]
    values: dict[int, dict[str, str]]
    header: list[str]
    _item: tuple[str, dict[str, str]] | None = None

    def cells(self, record: list[str]) -> dict[str, str] | None:
        """One row in our columns, or None for a row that is not a product (an image row, a variable parent).
        Raises ``ValueError`` for a cell outside its ``[values]`` table."""
        def cell(i: int) -> str:
            value = record[i].strip() if i < len(record) else ""
            table = self.values.get(i)
            if table is None or not value:
                return value
            for k, v in table.items():
                if k.lower() == value.lower():
                    return v
            raise ValueError(f"column {self.profile_column(i)}: {value!r} is not one of {', '.join(table)}")

        if self.skip_empty and not any(cell(i) for i in self.skip_empty):
            return None
        if any(cell(i) in values for i, values in self.skip_values.items()):
            return None
        out: dict[str, str] = {}
        for ours, columns in self.sources.items():
            found = self._taxes(record, columns) if ours == "tax" else [v for i, _ in columns if (v := cell(i))]
            out[ours] = "|".join(dict.fromkeys(found)) if ours == "barcode" else (found[0] if found else "")
        for ours, value in self.profile.fixed.items():
            if not out.get(ours):
                out[ours] = value
        if self.group is not None:
            key = cell(self.group)
            if key and self._item and self._item[0] == key:
                for name in CARRIED:
                    if name in out and not out[name]:
                        out[name] = self._item[1].get(name, "")
            elif key:
                self._item = (key, dict(out))
        variant = " / ".join(v for i in self.options if (v := cell(i)) and v not in self.profile.single)
        if variant and out.get("name"):
            out["name"] = f"{out['name']}{SEPARATOR}{variant}"
        return out

    def _taxes(self, record: list[str], columns: list[tuple[int, str]]) -> list[str]:
        """The tax cells, where a column per tax with cells Y/N (Loyverse, Square: "Tax - VAT (9%)") gives the rate
        of the one that applies. Two that apply are refused: a compound tax is not one rate."""
        rates, plain = [], []
        for i, _ in columns:
            value = record[i].strip() if i < len(record) else ""
            rate = re.search(r"\((\d+(?:[.,]\d+)?)\s*%\)", self.header[i])
            if rate is None:
                plain += [value] if value else []
            elif value.lower() in ("y", "yes", "true", "1"):
                rates.append(rate[1])
            elif value.lower() not in ("", "n", "no", "false", "0"):
                raise ValueError(f"column {self.header[i].strip()}: {value!r} is neither Y nor N")
        if len(rates) > 1:
            raise ValueError(f"{len(rates)} taxes apply ({', '.join(r + '%' for r in rates)}): one rate per product")
        return rates or plain

    def profile_column(self, i: int) -> str:
        return next((their for cols in self.sources.values() for j, their in cols if j == i), f"#{i + 1}")


def _names(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _bundled() -> dict[str, Profile]:
    profiles = {}
    for entry in sorted(resources.files("shopkeeper.import_profiles").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            key = entry.name[: -len(".toml")]
            profiles[key] = Profile.from_toml(tomllib.loads(entry.read_text("utf-8")), f"profile {key}")
    return profiles


PROFILES = _bundled()
"""The systems ``--from`` knows, by name."""


def profile_named(name: str) -> Profile:
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        raise ShopError(f"--from {name}: not a system this import knows (known: {', '.join(PROFILES)})") from None


def load_map(path: Path) -> Profile:
    """A ``--map`` file: their column -> our field, fixed values, as in a profile."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ShopError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ShopError(f"{path}: not a TOML column map: {exc}") from None
    data.setdefault("name", f"the map {path.name}")
    return Profile.from_toml(data, str(path))


def recognise(header: list[str]) -> Profile | None:
    return next((p for p in PROFILES.values() if p.matches(header)), None)
