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
    [blank]                                      # cells that mean "no value here" (a variation's "parent")
    Stock = ["parent"]
    [taxes]                                      # a tax named without its rate -> the rate ("" : the shop's
    "reduced-rate" = "9"                         #   default); see TAX_NAMES for the names every profile knows
    tax_names = ["Tax class"]                    # (top level) columns whose cells name a tax rather than a rate
    plain_decimals = true                        # (top level) prices never group thousands: "19,90" is 19.90
    lists = ["Categories"]                       # (top level) cells listing several ("A, B"; "\\," in a name):
                                                 #   the first is taken
    tax_amount = "tax_value"                     # (top level) the tax on the price, which excludes it: a tax
                                                 #   name without a rate takes tax / price, and a shop whose
                                                 #   prices include tax stores price + tax
    [variants]                                   # rows of one item, one product per variant
    group = ["Handle"]                           # the rows of an item share this (the first column present);
                                                 # a variant row's empty cells take its item's first row's
    options = ["Option1 Value"]                  # the variant's name: "Item – Red / L"
    single = ["Default Title"]                   # option values that mean "no variants"
    parent = "Parent"                            # or: a variation row names its item's row (WooCommerce) by
    items = { Type = ["variable"] }              #   one of these keys; item rows are not products
    item_keys = { SKU = "", ID = "id:" }         #   (column = prefix of its value in the parent column)
    sku_suffix = "ID"                            #   a variation without a SKU: "<item's SKU>-<its ID>"
    named_values = true                          #   option cells "Colour: Red" (Odoo), several "A: x,B: y"
    [rows]
    skip_when_empty = ["Variant SKU", "Variant Price"]   # rows with all of these empty are not products
    skip_when = { Type = ["variable"] }                  # nor rows with one of these values
    leave_out = [{ column = "Archived", values = ["Y"], why = "archived" }]   # products left out, said once
    say_when_filled = [{ column = "composite_sku", why = "..." }]             # said once, the row imported
    continue_when_empty = ["Item Code"]          # a row with all of these (that the file has) empty continues
                                                 #   the product above: a child table's further rows (ERPNext,
                                                 #   Odoo write one row per barcode, variant value, tax...); its
                                                 #   barcodes and option values are added, other values said once
    continue_when_same = ["handle", "sku"]       # so does a row repeating these of the row above (nothing added)
    formula_quote = true                         # (top level) a cell the system wrote as "'-5" (an apostrophe
                                                 #   before a leading =, + or -, Odoo) is "-5"
    [sku]                                        # a product the system keeps without a SKU of its own:
    from = ["Barcode", "External ID"]            #   the first of these columns that is filled is its SKU
    drop_prefix = "__export__."                  #   (this prefix of it aside)
    group_and_options = true                     #   else its group key and option values: "linen-tee-natural-m"
    missing = "how to export one"                #   else the row is refused saying this
    [variants] name_suffix = "-"                 # the system's own variant name ends with one "-part" per option
                                                 #   value ("T-Shirt-RED-S", ERPNext): "T-Shirt – Red / S"

A map file may start from a bundled profile (``extends = "woocommerce"``) and add to it, e.g. a ``[taxes]`` table.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from shopkeeper.errors import ShopError

FIELDS = ("sku", "name", "barcode", "price", "cost", "unit", "tax", "reorder_point", "reorder_qty", "supplier",
          "category", "on_hand")
"""Our product list's columns (``products_csv.COLUMNS``)."""
CARRIED = ("name", "category", "supplier", "unit", "tax", "cost", "price")
"""Fields a variant row without a value of its own takes from its item's first row."""
CARRIED_FROM_PARENT = ("category", "supplier", "unit", "tax", "cost")
"""Fields a variation takes from the item row it names (WooCommerce): not its price, since a variation without a
price of its own is not for sale there."""
SEPARATOR = " – "

TAX_NAMES = {
    **dict.fromkeys(("zero", "zero rate", "zero-rate", "zero rated", "zero-rated", "exempt", "tax exempt",
                     "tax-exempt", "no tax", "notax", "none", "tax free", "tax-free", "non-taxable", "nontaxable"),
                    "0"),
    **dict.fromkeys(("standard", "standard rate", "standard-rate", "default", "default tax"), ""),
}
"""Tax names that say their rate without a number: none at all, or the standard rate ("" : the shop's default rate,
which a new product takes)."""
UNIT_NAMES = {
    **dict.fromkeys(("nos", "no", "no.", "unit", "units", "unit(s)", "each", "ea", "pc", "pcs", "piece", "pieces",
                     "stuk", "stuks", "st", "st.", "stück", "stk", "stk.", "pièce", "pièces", "pce", "unité",
                     "unités", "unidad", "unidades", "ud", "uds"), "pcs"),
    **dict.fromkeys(("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramm", "kilogramme"), "kg"),
    **dict.fromkeys(("g", "gr", "gram", "grams", "gramm", "gramme", "grammes"), "g"),
    **dict.fromkeys(("lb", "lbs", "pound", "pounds"), "lb"),
    **dict.fromkeys(("oz", "ounce", "ounces"), "oz"),
}
"""Units other systems and spreadsheets name (ERPNext "Nos" and "Kg", Odoo "Units", a Dutch "stuk", a German
"Stk.", Square's "Pound (lb)") as ours: ``pcs`` is sold by the piece, any other unit by measure."""
_PER = re.compile(r"^per\s+", re.IGNORECASE)
_PRECISION = re.compile(r"\s*(?:[(\[]\s*(?:precision[:\s]*)?\d*[.,]?\d+\s*[)\]]|,?\s*precision[:\s]*\d*[.,]?\d+)\s*$",
                        re.IGNORECASE)
_ABBREVIATION = re.compile(r"^(?P<name>.*?)\s*\((?P<abbr>[^()]+)\)$")


def unit_named(text: str) -> str:
    """Our unit for a unit as another system writes it: a name or an abbreviation ("Nos", "kilo"), Square's
    "Unit and Precision" ("Kilogram (kg)", "Per Pound (lb)", a precision after it: "(.00)", "[2]", "precision 2");
    "" for none (by the piece). A unit we do not know is kept as its abbreviation (or name): sold by measure."""
    unit = " ".join(text.split())
    while (trimmed := _PRECISION.sub("", unit)) != unit:
        unit = trimmed
    unit = _PER.sub("", unit)
    named = _ABBREVIATION.match(unit)
    candidates = [named["abbr"].strip(), named["name"].strip()] if named else [unit]
    for candidate in candidates:
        if candidate.lower() in UNIT_NAMES:
            return UNIT_NAMES[candidate.lower()]
    return candidates[0]


_LIST_SEP = re.compile(r"(?<!\\),")
_RATE_IN_NAME = re.compile(r"\d+(?:[.,]\d+)?\s*%")


_ATTRIBUTE = re.compile(r"^[^:,]+:\s*")
_NEXT_ATTRIBUTE = re.compile(r",(?=[^,:]+:)")  # "Color: Red,Size: S" is two values; "Size: 1,5 L" is one


class HeaderRejected(ShopError):
    """The file's header does not fit: one message for the whole file, nothing was read or changed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"line 1: header: {reason}", reason=reason, line=1)


@dataclass
class LeaveOut:
    column: str
    values: set[str]
    why: str


@dataclass
class Profile:
    name: str
    columns: dict[str, str]
    source: str = ""
    recognise: list[list[str]] = field(default_factory=list)
    fixed: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    blank: dict[str, list[str]] = field(default_factory=dict)
    taxes: dict[str, str] = field(default_factory=dict)
    tax_names: list[str] = field(default_factory=list)
    plain_decimals: bool = False
    lists: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    single: list[str] = field(default_factory=list)
    parent: str = ""
    items: dict[str, list[str]] = field(default_factory=dict)
    item_keys: dict[str, str] = field(default_factory=dict)
    sku_suffix: str = ""
    skip_when_empty: list[str] = field(default_factory=list)
    skip_when: dict[str, list[str]] = field(default_factory=dict)
    leave_out: list[LeaveOut] = field(default_factory=list)
    say_when_filled: list[LeaveOut] = field(default_factory=list)
    continue_when_empty: list[str] = field(default_factory=list)
    continue_when_same: list[str] = field(default_factory=list)
    named_values: bool = False
    tax_amount: str = ""
    sku_from: list[str] = field(default_factory=list)
    sku_drop_prefix: str = ""
    sku_from_options: bool = False
    sku_missing: str = ""
    name_suffix: str = ""
    formula_quote: bool = False
    key: str = ""
    """The bundled profile's name for ``--from`` and ``extends`` ("" for a map of its own)."""

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
        variants, rows, sku = data.get("variants", {}), data.get("rows", {}), data.get("sku", {})
        try:
            return cls(name=str(data.get("name") or where), columns={str(k): str(v) for k, v in columns.items()},
                       source=str(data.get("source", "")), recognise=[list(r) for r in data.get("recognise", [])],
                       fixed={k: str(v) for k, v in fixed.items()},
                       values={k: {str(a): str(b) for a, b in v.items()} for k, v in data.get("values", {}).items()},
                       blank={k: [str(x) for x in v] for k, v in data.get("blank", {}).items()},
                       taxes={str(k).strip().lower(): str(v) for k, v in data.get("taxes", {}).items()},
                       tax_names=_names(data.get("tax_names", [])), plain_decimals=bool(data.get("plain_decimals")),
                       lists=_names(data.get("lists", [])),
                       group=_names(variants.get("group", [])), options=list(variants.get("options", [])),
                       single=list(variants.get("single", [])), parent=str(variants.get("parent", "")),
                       items={k: list(v) for k, v in variants.get("items", {}).items()},
                       item_keys={str(k): str(v) for k, v in variants.get("item_keys", {}).items()},
                       sku_suffix=str(variants.get("sku_suffix", "")),
                       skip_when_empty=list(rows.get("skip_when_empty", [])),
                       skip_when={k: list(v) for k, v in rows.get("skip_when", {}).items()},
                       leave_out=[LeaveOut(str(r["column"]), {str(v) for v in r["values"]}, str(r["why"]))
                                  for r in rows.get("leave_out", [])],
                       say_when_filled=[LeaveOut(str(r["column"]), set(), str(r["why"]))
                                        for r in rows.get("say_when_filled", [])],
                       continue_when_empty=_names(rows.get("continue_when_empty", [])),
                       continue_when_same=_names(rows.get("continue_when_same", [])),
                       named_values=bool(variants.get("named_values")), tax_amount=str(data.get("tax_amount", "")),
                       sku_from=_names(sku.get("from", [])), sku_drop_prefix=str(sku.get("drop_prefix", "")),
                       sku_from_options=bool(sku.get("group_and_options")), sku_missing=str(sku.get("missing", "")),
                       name_suffix=str(variants.get("name_suffix", "")),
                       formula_quote=bool(data.get("formula_quote")), key=str(data.get("key", "")))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise fail(f"not a column map: {exc}") from None

    def matches(self, header: list[str]) -> bool:
        names = {h.strip().lower() for h in header}
        return any(all(c.lower() in names for c in needed) for needed in self.recognise)

    def bind(self, header: list[str], location: str | None = None, *, prices_include_tax: bool = True,
             decimals: int = 2) -> Binding:
        """Which of the file's columns feed each of our fields; a header that does not fit is one message.
        ``prices_include_tax``, ``decimals``: the shop's, for a layout whose prices exclude tax (``tax_amount``)."""
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
        sku_from = [lowered.index(c.lower()) for c in self.sku_from if c.lower() in lowered]
        fallback = bool(sku_from) or (self.sku_from_options and any(g.lower() in lowered for g in self.group))
        missing = [f for f in ("sku", "name") if not sources.get(f) and f not in self.fixed
                   and not (f == "sku" and fallback)]
        if missing:
            wanted = ", ".join(repr(t) for t, o in self.columns.items() if o in missing)
            raise HeaderRejected(f"no column for {' and '.join(missing)} (looked for {wanted}) for the layout "
                                 f"{self.name}")

        def index(name: str | None) -> int | None:
            return lowered.index(name.lower()) if name and name.lower() in lowered else None

        def indexed(table: dict) -> dict:
            return {i: v for c, v in table.items() if (i := index(c)) is not None}

        group = next((i for g in self.group if (i := index(g)) is not None), None)
        binding = Binding(self, sources, group, [i for o in self.options if (i := index(o)) is not None],
                       [i for c in self.skip_when_empty if (i := index(c)) is not None],
                       {i: set(v) for i, v in indexed(self.skip_when).items()}, indexed(self.values), list(header),
                       blank={i: {b.lower() for b in v} for i, v in indexed(self.blank).items()},
                       tax_named={i for c in self.tax_names if (i := index(c)) is not None},
                       lists={i for c in self.lists if (i := index(c)) is not None},
                       parent=index(self.parent), items={i: set(v) for i, v in indexed(self.items).items()},
                       item_keys=indexed(self.item_keys), sku_suffix=index(self.sku_suffix),
                       leave_out=[(i, r) for r in self.leave_out if (i := index(r.column)) is not None],
                       say_filled=[(i, r) for r in self.say_when_filled if (i := index(r.column)) is not None],
                       continue_empty=[i for c in self.continue_when_empty if (i := index(c)) is not None],
                       continue_same=[i for c in self.continue_when_same if (i := index(c)) is not None],
                       tax_amount=index(self.tax_amount), gross=prices_include_tax, decimals=decimals,
                       sku_from=sku_from)
        if not self.key:  # a map of the shop's own: a column it does not name is not silently dropped
            used = {i for hits in sources.values() for i, _ in hits}
            used |= {i for i in map(index, self._named()) if i is not None}
            unused = [h.strip() for i, h in enumerate(header) if i not in used and h.strip()]
            if unused:
                binding._say(1, "", f"not in the map, so not imported: {', '.join(unused)}")
        return binding

    def _named(self) -> set[str]:
        """Every column of the file this profile reads besides ``columns``: variants, rows, SKU, tax columns."""
        return {*self.group, *self.options, *self.single, self.parent, *self.items, *self.item_keys, self.sku_suffix,
                *self.skip_when_empty, *self.skip_when, *(r.column for r in self.leave_out),
                *(r.column for r in self.say_when_filled), *self.continue_when_empty, *self.continue_when_same,
                self.tax_amount, *self.sku_from, *self.values, *self.blank, *self.tax_names, *self.lists} - {""}

    @staticmethod
    def _location(their: str, header: list[str], hits: list[int], location: str | None) -> int:
        prefix, _, suffix = their.lower().partition("*")
        names = {header[i].strip()[len(prefix): len(header[i].strip()) - len(suffix)].strip(" []"): i for i in hits}
        if location is not None:
            wanted = _place(location)
            for name, i in names.items():
                if _place(name) == wanted:
                    return i
        choice = "; choose one with --location NAME" if location is None else f"; none is {location!r}"
        shown = ", ".join(name.replace("_", " ") for name in names)
        raise HeaderRejected(f"one column per location ({', '.join(header[i].strip() for i in hits)}): the shop's "
                             f"location is one of {shown}{choice}")

    def describe(self) -> str:
        return self.name + (f" ({self.source})" if self.source else "")


@dataclass
class Family:
    """Several layouts one system writes (Lightspeed's R-Series and X-Series): ``--from`` names the system, and
    the file's header says which of its layouts it is."""

    name: str
    members: list[Profile]
    source: str = ""

    def bind(self, header: list[str], location: str | None = None, *, prices_include_tax: bool = True,
             decimals: int = 2) -> Binding:
        chosen = next((p for p in self.members if p.matches(header)), None)
        if chosen is not None:
            return chosen.bind(header, location, prices_include_tax=prices_include_tax, decimals=decimals)
        problems = []
        for member in self.members:
            try:
                return member.bind(header, location, prices_include_tax=prices_include_tax, decimals=decimals)
            except HeaderRejected as exc:
                problems.append(exc.reason)
        raise HeaderRejected(f"neither layout of {self.name} fits: " + "; ".join(problems))

    def describe(self) -> str:
        return f"{self.name} ({' or '.join(p.name for p in self.members)})"


def _place(name: str) -> str:
    """A location's name as compared: case, spaces and underscores aside (X-Series writes ``inventory_Main_Outlet``
    for the outlet "Main Outlet")."""
    return " ".join(name.replace("_", " ").lower().split())


@dataclass
class _Tally:
    line: int
    column: str
    count: int = 0


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
    blank: dict[int, set[str]] = field(default_factory=dict)
    tax_named: set[int] = field(default_factory=set)
    lists: set[int] = field(default_factory=set)
    parent: int | None = None
    items: dict[int, set[str]] = field(default_factory=dict)
    item_keys: dict[int, str] = field(default_factory=dict)
    sku_suffix: int | None = None
    leave_out: list[tuple[int, LeaveOut]] = field(default_factory=list)
    say_filled: list[tuple[int, LeaveOut]] = field(default_factory=list)
    continue_empty: list[int] = field(default_factory=list)
    continue_same: list[int] = field(default_factory=list)
    tax_amount: int | None = None
    sku_from: list[int] = field(default_factory=list)
    gross: bool = True
    decimals: int = 2
    _item: tuple[str, dict[str, str]] | None = None
    _held: tuple[dict[str, str], str, list[str], bool] | None = None
    _keys: tuple[str, ...] | None = None
    _rate: str = ""
    _parents: dict[str, dict[str, str]] = field(default_factory=dict)
    _said: dict[str, _Tally] = field(default_factory=dict)

    @property
    def continued(self) -> bool:
        """Whether a later row may add to a product row (``continue_when_*``): its reader holds each product row
        until the next row is read."""
        return bool(self.continue_empty or self.continue_same)

    def cells(self, record: list[str], line: int = 0) -> dict[str, str] | None:
        """One row in our columns, or None for a row that is not a product (an image row, a variable parent, a
        row left out, a row continuing the product above, which it adds to). Raises ``ValueError`` for a cell
        outside its ``[values]`` table; a row below a bad row continues nothing (its reader has passed the product
        above on)."""
        try:
            return self._cells(record, line)
        except ValueError:
            self._held = None
            raise

    def _cells(self, record: list[str], line: int) -> dict[str, str] | None:
        def cell(i: int) -> str:
            value = record[i].strip() if i < len(record) else ""
            if self.profile.formula_quote and value[:2] in ("'=", "'+", "'-"):
                value = value[1:]
            if i in self.lists:
                value = _LIST_SEP.split(value, 1)[0].replace("\\,", ",").strip()
            if value.lower() in self.blank.get(i, ()):
                return ""
            table = self.values.get(i)
            if table is None or not value:
                return value
            for k, v in table.items():
                if k.lower() == value.lower():
                    return v
            raise ValueError(f"column {self.profile_column(i)}: {value!r} is not one of {', '.join(table)}")

        if self.continued:
            keys = tuple(cell(i) for i in self.continue_same)
            if self.continue_empty and not any(cell(i) for i in self.continue_empty):
                return self._continue(cell, line)
            if self.continue_same and keys == self._keys and any(keys):
                if self._held is not None:  # a further row of the product above (an X-Series composite's next
                    self._say_filled(cell, line)  # component): said once for the product, nothing added
                return None
            self._held, self._keys = None, keys
        if self.skip_empty and not any(cell(i) for i in self.skip_empty):
            return None
        if any(cell(i) in values for i, values in self.skip_values.items()):
            return None
        self._rate = self._rate_from_amount(cell) if self.tax_amount is not None else ""
        out: dict[str, str] = {}
        for ours, columns in self.sources.items():
            if ours == "tax":
                found = self._taxes(record, columns, cell, line)
            else:
                found = [v for i, _ in columns if (v := cell(i))]
            out[ours] = "|".join(dict.fromkeys(found)) if ours == "barcode" else (found[0] if found else "")
        if unit := out.get("unit"):
            out["unit"] = unit_named(unit)
        if self.profile.plain_decimals:
            for name in ("price", "cost"):
                if re.fullmatch(r"\d+,\d+", out.get(name, "")):
                    out[name] = out[name].replace(",", ".")
        if self.tax_amount is not None and self.gross and cell(self.tax_amount) and out.get("price"):
            out["price"] = self._with_tax(out["price"], cell(self.tax_amount), self.decimals)
        if any(cell(i) in values for i, values in self.items.items()):
            for i, prefix in self.item_keys.items():
                if key := cell(i):
                    self._parents[prefix + key] = out
            return None
        for i, rule in self.leave_out:
            if cell(i) in rule.values:
                self._say(line, rule.column, rule.why)
                return None
        said = self._say_filled(cell, line)
        for ours, value in self.profile.fixed.items():
            if not out.get(ours):
                out[ours] = value
        options = self._options(cell)
        variant = " / ".join(options)
        if "sku" in out and not out["sku"]:
            out["sku"] = self._sku_of(cell, options, line)
        if self.parent is not None:
            return self._variation(record, out, cell, variant)
        if self.group is not None:
            key = cell(self.group)
            if key and self._item and self._item[0] == key:
                for name in CARRIED:
                    if name in out and not out[name]:
                        out[name] = self._item[1].get(name, "")
            elif key:
                self._item = (key, dict(out))
        if self.continued:
            self._held = (out, out.get("name", ""), options, said)
        if variant and out.get("name"):
            out["name"] = self._variant_name(out["name"], options)
        return out

    def _variant_name(self, name: str, options: list[str]) -> str:
        """"Item – Red / S" from the item's name and its option values; where the system's own name for the
        variant ends with one part per value (``name_suffix``: ERPNext's "T-Shirt-RED-S", its template's name and
        the values' abbreviations), those parts are dropped first."""
        sep = self.profile.name_suffix
        if sep and options:
            head, *tail = name.rsplit(sep, len(options))
            if len(tail) == len(options) and head.strip() and all(t and not re.search(r"\s", t) for t in tail):
                name = head.strip()  # an abbreviation is a code: "RED", "S", "42", never "Extra Large"
        return f"{name}{SEPARATOR}{' / '.join(options)}"

    def _sku_of(self, cell, options: list[str], line: int) -> str:
        """The SKU of a product the system keeps without one (``[sku]``): the first of the ``from`` columns that
        is filled (a barcode, an ID the system gives every product), else its group key and option values; said
        once for the file. None of them: "" (refused as an empty SKU), or the profile's ``missing`` message."""
        sku_columns = ", ".join(dict.fromkeys(self.header[i].strip() for i, _ in self.sources.get("sku", []))) \
            or "SKU column"
        for i in self.sku_from:
            if value := cell(i).split("|")[0].strip():
                prefix = self.profile.sku_drop_prefix
                sku = value[len(prefix):] if prefix and value.startswith(prefix) else value
                self._say(line, self.header[i].strip(),
                          f"no {sku_columns}: the product's {self.header[i].strip()} is its SKU")
                return sku
        if self.profile.sku_from_options and self.group is not None and (key := cell(self.group)):
            sku = "-".join([key, *("-".join(o.lower().split()) for o in options)])
            self._say(line, self.header[self.group].strip(),
                      f"no {sku_columns}: the product's {self.header[self.group].strip()} and option values are "
                      f"its SKU")
            return sku
        if self.profile.sku_missing:
            raise ValueError(f"sku: empty: {self.profile.sku_missing}")
        return ""

    def _say_filled(self, cell, line: int) -> bool:
        """Say a ``say_when_filled`` rule's note for a product row with that column filled, once a product (of
        rows continuing it, only the first that has it): whether it was said."""
        if self._held is not None and self._held[3]:
            return True
        said = False
        for i, rule in self.say_filled:
            if cell(i):
                self._say(line, rule.column, rule.why)
                said = True
        if said and self._held is not None:
            self._held = (*self._held[:3], True)
        return said

    def _options(self, cell) -> list[str]:
        """The row's option values ("Red", "S"), the ones that mean "no variants" aside; with ``named_values``,
        "Colour: Red" is "Red" and a cell may hold several ("Colour: Red,Size: S", Odoo's import-compatible
        export)."""
        values = []
        for i in self.options:
            value = cell(i)
            parts = _NEXT_ATTRIBUTE.split(value) if self.profile.named_values else [value]
            for part in parts:
                part = _ATTRIBUTE.sub("", part.strip()) if self.profile.named_values else part
                if part and part not in self.profile.single:
                    values.append(part)
        return values

    def _continue(self, cell, line: int) -> None:
        """A row continuing the product above (``continue_when_empty``): its barcodes are added to the product's,
        its option values to its name ("Tee – Red / S"); a value in another column (a second tax, a second
        vendor) is not imported, said once for the file. Nothing to add to (the row above was not imported, or
        there is none): nothing is done."""
        if self._held is None:
            if self._keys is None:
                raise ValueError("this row continues the product above (its item columns are empty), but there is "
                                 "none: is the file's first product row missing?")
            return None  # the row above was not imported (left out, or bad): nothing to add to
        out, name, options, _ = self._held
        codes = [v for i, _ in self.sources.get("barcode", []) if (v := cell(i))]
        if codes:
            out["barcode"] = "|".join(dict.fromkeys([*filter(None, out.get("barcode", "").split("|")), *codes]))
        more = self._options(cell)
        if more:
            options.extend(more)
            out["name"] = self._variant_name(name, options) if name else name
        for ours, columns in self.sources.items():
            for i, their in columns:
                if ours != "barcode" and cell(i):
                    self._say(line, self.header[i].strip(),
                              f"a further {their!r} on a row of its own (the product above has one already): "
                              f"not imported, the product keeps its first")
        return None

    def _rate_from_amount(self, cell) -> str:
        """The tax rate the tax amount gives on the price it excludes (``tax_amount``): "15" for 5.86957 on
        39.13043, to the rate's three decimals; "0" for no tax on a price; "" when either is missing, not a
        number, or the price is zero."""
        assert self.tax_amount is not None
        price = next((v for i, _ in self.sources.get("price", []) if (v := cell(i))), "")
        try:
            tax, net = Decimal(cell(self.tax_amount)), Decimal(price)
        except InvalidOperation:
            return ""
        if not (tax.is_finite() and net.is_finite()):
            return ""
        if not tax or not net:
            return "0" if net and not tax and cell(self.tax_amount) else ""
        rate = (tax * 100 / net).quantize(Decimal("0.001"))
        return format(rate.normalize(), "f")

    @staticmethod
    def _with_tax(price: str, tax: str, decimals: int) -> str:
        """``price`` (which excludes tax) with its tax added, as the shelf price of a shop whose prices include it,
        rounded half-even to the shop's decimals (39.13043 + 5.86957 is 45.00); as written when either is not a
        plain number (the number parser names what is wrong)."""
        try:
            gross = Decimal(price) + Decimal(tax)
        except InvalidOperation:
            return price
        if not gross.is_finite():
            return price
        return format(gross.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN), "f")

    def _variation(self, record: list[str], out: dict[str, str], cell, variant: str) -> dict[str, str]:
        """A row naming its item row (a WooCommerce variation): "Item – Red / L" from the item's name and its own
        attribute values, the item's category, supplier, tax, unit, cost where it has none; without a SKU of its
        own, the item's SKU and its own ID (WooCommerce lets a variation use its parent's SKU)."""
        assert self.parent is not None
        ref = cell(self.parent)
        if not ref:
            return out
        item = self._parents.get(ref)
        if item is None:
            raise ValueError(f"column {self.header[self.parent].strip()}: {ref!r} is not a variable product on an "
                             f"earlier line")
        for name in CARRIED_FROM_PARENT:
            if name in out and not out[name]:
                out[name] = item.get(name, "")
        if item.get("name"):
            out["name"] = item["name"] + (f"{SEPARATOR}{variant}" if variant else "")
        if self.sku_suffix is not None and cell(self.sku_suffix) and item.get("sku"):
            own = [v for i, _ in self.sources.get("sku", []) if i != self.sku_suffix and (v := cell(i))]
            if not own:
                out["sku"] = f"{item['sku']}-{cell(self.sku_suffix)}"
        return out

    def _taxes(self, record: list[str], columns: list[tuple[int, str]], cell, line: int) -> list[str]:
        """The tax cells, where a column per tax with cells Y/N (Loyverse, Square: "Tax - VAT (9%)") gives the rate
        of the one that applies. Two that apply are refused: a compound tax is not one rate. A tax named without
        its rate (a column in ``tax_names``, a Y/N column whose header has no rate) is read by ``_tax_named``.
        Every Y/N column answered N: no tax applies in the system, the rate is 0 (a blank one says nothing)."""
        rates, plain, answered, applies = [], [], False, False
        for i, their in columns:
            value = cell(i)
            if i in self.tax_named:
                plain += [rate] if (rate := self._tax_named(value, self.header[i].strip(), line)) else []
                continue
            rate = re.search(r"\((\d+(?:[.,]\d+)?)\s*%\)", self.header[i])
            per_tax = "*" in their
            if rate is None and not per_tax:
                plain += [value] if value else []
            elif value.lower() in ("y", "yes", "true", "1"):
                applies = True
                if rate is not None:
                    rates.append(rate[1])
                elif named := self._tax_named(self._wild_part(their, i), self.header[i].strip(), line):
                    rates.append(named)
            elif value.lower() in ("n", "no", "false", "0"):
                answered = True
            elif value:
                raise ValueError(f"column {self.header[i].strip()}: {value!r} is neither Y nor N")
        if len(rates) > 1:
            raise ValueError(f"{len(rates)} taxes apply ({', '.join(r + '%' for r in rates)}): one rate per product")
        if answered and not applies and not plain:
            return ["0"]
        return rates or plain

    def _wild_part(self, their: str, i: int) -> str:
        prefix, _, suffix = their.partition("*")
        name = self.header[i].strip()
        return name[len(prefix): len(name) - len(suffix)].strip()

    def _tax_named(self, name: str, column: str, line: int) -> str:
        """The rate a tax's name gives: a rate written in it ("VAT 21%"), one the profile or map file names
        (``[taxes]``), or one of ``TAX_NAMES``; "" for the shop's default rate. A name that gives none is imported
        without a rate (a new product takes the shop's default) and said once for the file."""
        if not name or _RATE_IN_NAME.search(name):
            return name
        key = " ".join(name.lower().split())
        for table in (self.profile.taxes, TAX_NAMES):
            if key in table:
                return table[key]
        if self._rate:
            return self._rate  # the rate the file's tax amount gives (tax_amount)
        system = self.profile.key or "<system>"
        self._say(line, column, f"the tax {name!r} names no rate: imported without a tax rate of its own (a new "
                                f"product takes the shop's default rate); to give it one, use a --map file with "
                                f"extends = \"{system}\" and [taxes] \"{name}\" = \"<rate>\"")
        return ""

    def _say(self, line: int, column: str, what: str) -> None:
        tally = self._said.setdefault(what, _Tally(line, column))
        tally.count += 1

    def notes(self) -> list[tuple[int, str, str]]:
        """What was said once for the file: (first line, column, what, with how many rows)."""
        return [(t.line, t.column, what + (f" (this row and {t.count - 1} more)" if t.count > 1 else ""))
                for what, t in self._said.items()]

    def profile_column(self, i: int) -> str:
        return next((their for cols in self.sources.values() for j, their in cols if j == i), f"#{i + 1}")


def _names(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _bundled_data() -> dict[str, dict]:
    data = {}
    for entry in sorted(resources.files("shopkeeper.import_profiles").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data[entry.name[: -len(".toml")]] = tomllib.loads(entry.read_text("utf-8"))
    return data


_DATA = _bundled_data()
PROFILES = {key: Profile.from_toml({**data, "key": key}, f"profile {key}") for key, data in _DATA.items()}
"""The systems ``--from`` knows, by name."""
FAMILIES = {"lightspeed": Family("Lightspeed Retail", [PROFILES["lightspeed-r"], PROFILES["lightspeed-x"]])}
"""Systems with several layouts, by name: the header says which."""


def known_systems() -> list[str]:
    return sorted([*PROFILES, *FAMILIES])


def profile_named(name: str) -> Profile | Family:
    key = name.strip().lower()
    if key in FAMILIES:
        return FAMILIES[key]
    try:
        return PROFILES[key]
    except KeyError:
        raise ShopError(f"--from {name}: not a system this import knows (known: {', '.join(known_systems())})") \
            from None


def load_map(path: Path) -> Profile:
    """A ``--map`` file: their column -> our field, fixed values, as in a profile; ``extends = "system"`` starts
    from that system's profile (its tables are added to, key by key)."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ShopError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ShopError(f"{path}: not a TOML column map: {exc}") from None
    base = data.pop("extends", None)
    if base is not None:
        if str(base).lower() not in _DATA:
            raise ShopError(f"{path}: extends = {base!r}: not a system this import knows "
                            f"(known: {', '.join(PROFILES)})")
        data = _merged({**_DATA[str(base).lower()], "key": str(base).lower()}, data)
        data["name"] = f"{data.get('name')} with the map {path.name}"
    data.setdefault("name", f"the map {path.name}")
    return Profile.from_toml(data, str(path))


def _merged(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def recognise(header: list[str]) -> Profile | None:
    return next((p for p in PROFILES.values() if p.matches(header)), None)
