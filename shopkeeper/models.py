"""Peewee models, nothing else.

Money columns hold integer minor units; quantity columns hold integer thousandths (see ``money.py``), bounded by
``bounds.py``. Integers are 64-bit (``bigint`` on PostgreSQL; SQLite's INTEGER is already), text is unbounded
``text``: new models use ``BigIntegerField``/``TextField`` too.
Timestamps are UTC ISO-8601 text (``2026-11-25T10:00:00.123456Z``), which sorts and compares as time does.
"""

from __future__ import annotations

from peewee import (
    BigAutoField,
    BigIntegerField,
    BooleanField,
    DatabaseProxy,
    ForeignKeyField,
    Model,
    TextField,
)

database = DatabaseProxy()


class BaseModel(Model):
    id = BigAutoField()

    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = BigIntegerField()


class Supplier(BaseModel):
    name = TextField(unique=True)
    contact = TextField(default="")
    lead_days = BigIntegerField(default=0)


class Staff(BaseModel):
    name = TextField(unique=True)
    active = BooleanField(default=True)


class Terminal(BaseModel):
    name = TextField(unique=True)


class Product(BaseModel):
    sku = TextField(unique=True)
    name = TextField()
    unit = TextField(default="pcs")
    price = BigIntegerField(default=0)  # minor units, as sold (tax-inclusive or not per config)
    tax_rate = BigIntegerField(default=0)  # basis points: 2000 = 20 %
    avg_cost = BigIntegerField(default=0)  # moving average cost, minor units per unit
    reorder_point = BigIntegerField(default=0)  # thousandths
    reorder_qty = BigIntegerField(default=0)  # thousandths
    supplier = ForeignKeyField(Supplier, null=True, backref="products", on_delete="SET NULL")
    category = TextField(default="")
    active = BooleanField(default=True)
    on_hand = BigIntegerField(default=0)  # cache of SUM(movement.quantity), thousandths
    updated_at = TextField(default="")


class Barcode(BaseModel):
    code = TextField(unique=True)
    product = ForeignKeyField(Product, backref="barcodes", on_delete="CASCADE")


class Sale(BaseModel):
    """A completed sale or refund. Refunds are ``kind='return'`` with negative totals."""

    kind = TextField(default="sale")  # sale | return
    created_at = TextField()
    staff = ForeignKeyField(Staff, null=True, index=False)
    terminal = ForeignKeyField(Terminal, null=True, index=False)
    original = ForeignKeyField("self", null=True, backref="returns", index=False)  # partial index in db.py
    subtotal = BigIntegerField()  # before sale discount
    discount = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)
    total = BigIntegerField()
    payment = TextField()  # cash | card | other
    tendered = BigIntegerField(null=True)
    change = BigIntegerField(null=True)
    reason = TextField(default="")


class SaleLine(BaseModel):
    sale = ForeignKeyField(Sale, backref="lines")
    line_no = BigIntegerField()
    product = ForeignKeyField(Product, null=True, index=False)  # null for a one-off item sold at a typed price
    description = TextField()
    quantity = BigIntegerField()  # thousandths, positive on sales and refunds alike
    unit_price = BigIntegerField()
    discount = BigIntegerField(default=0)  # line discount plus its share of the sale discount
    tax_rate = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)
    total = BigIntegerField()  # amount paid for the line, tax included
    unit_cost = BigIntegerField(default=0)
    original_line = ForeignKeyField("self", null=True, backref="returned_by", index=False)  # partial index
    lot = TextField(null=True)  # batch/lot from the item's label (GS1 AI 10), so a recall can find what was sold
    expiry = TextField(null=True)  # expiry date from the label (AI 17), ISO "2027-01-31"


class CountSession(BaseModel):
    started_at = TextField()
    finished_at = TextField(null=True)
    status = TextField(default="open")  # open | posted | cancelled
    staff = ForeignKeyField(Staff, null=True)
    terminal = ForeignKeyField(Terminal, null=True)
    note = TextField(default="")


class CountLine(BaseModel):
    """One product counted in a session: ``expected`` is the stock the moment it was counted."""

    session = ForeignKeyField(CountSession, backref="lines", on_delete="CASCADE")
    product = ForeignKeyField(Product)
    counted = BigIntegerField()
    expected = BigIntegerField()
    counted_at = TextField()

    class Meta:
        indexes = ((("session", "product"), True),)


class Movement(BaseModel):
    """The journal: one row per stock change. Append-only; the database refuses UPDATE and DELETE.

    Every index here is paid for on every sale's commit, so foreign keys that are mostly NULL get partial indexes
    (``db.py``) and staff/terminal none: the journal is filtered by them newest-first with a LIMIT.
    """

    product = ForeignKeyField(Product, backref="movements", index=False)  # (product, id) index below
    kind = TextField()  # receive | sale | return | adjust | count
    quantity = BigIntegerField()  # signed thousandths
    unit_cost = BigIntegerField(null=True)
    unit_price = BigIntegerField(null=True)
    reason = TextField(default="")
    staff = ForeignKeyField(Staff, null=True, index=False)
    terminal = ForeignKeyField(Terminal, null=True, index=False)
    created_at = TextField(index=True)
    reference = TextField(default="")  # e.g. "sale:12", "count:3", "delivery:INV-881"
    sale = ForeignKeyField(Sale, null=True, backref="movements", index=False)  # unindexed: see db.py
    count_session = ForeignKeyField(CountSession, null=True, index=False)  # partial index in db.py
    lot = TextField(null=True)  # batch/lot of the goods moved, when their label said (GS1 AI 10)
    expiry = TextField(null=True)  # their expiry date (AI 17), ISO "2027-01-31"

    class Meta:
        indexes = ((("product", "id"), False),)


class OpenSale(BaseModel):
    """A sale being rung up at a till, saved as it grows so a dropped SSH session or a crash loses nothing.

    Mutable draft state, not part of the journal: completing it writes a ``Sale`` through the sales service and
    deletes the draft. ``status`` is ``open`` (the one in progress at ``terminal``) or ``parked``.
    """

    terminal = ForeignKeyField(Terminal, null=True)
    staff = ForeignKeyField(Staff, null=True)
    status = TextField(default="open")
    mode = TextField(default="sale")  # sale | refund
    original_sale = BigIntegerField(null=True)  # refund against this sale
    discount = BigIntegerField(default=0)
    discount_rate = BigIntegerField(null=True)  # a sale discount in percent (basis points); ``discount`` then unused
    note = TextField(default="")
    created_at = TextField()
    updated_at = TextField()


class OpenSaleLine(BaseModel):
    open_sale = ForeignKeyField(OpenSale, backref="lines", on_delete="CASCADE")
    line_no = BigIntegerField()
    product = ForeignKeyField(Product, null=True)
    description = TextField(default="")
    quantity = BigIntegerField()  # thousandths
    unit_price = BigIntegerField()
    discount = BigIntegerField(default=0)
    discount_rate = BigIntegerField(null=True)  # a line discount in percent (basis points); ``discount`` then unused
    tax_rate = BigIntegerField(default=0)
    code = TextField(default="")  # as scanned or typed
    lot = TextField(null=True)  # from the label, carried to the sale line and the movement
    expiry = TextField(null=True)  # ISO date from the label


class ShopSetting(BaseModel):
    """The shop's own settings, kept with its data: ``currency``, ``decimals``, ``created_by`` (``init``, ``demo``,
    ``adopted``), ``demo_products``. Created by migration 2, not m001."""

    key = TextField(primary_key=True)
    value = TextField()


class TillClaim(BaseModel):
    """A running app's lease on a till name, so that two apps never ring up one open sale (``services/till_claim``).

    Mutable: renewed by its holder every few seconds, taken over once its holder is gone, deleted on a clean exit.
    Created by migration ``_m003_till_claims``, not by m001 (hence not in ``ALL_MODELS``).
    """

    name = TextField(unique=True)  # the till (terminal) name
    host = TextField()
    pid = BigIntegerField()
    started = TextField(default="")  # the process's start time on its host (tells a reused pid apart)
    claimed_at = TextField()
    renewed_at = TextField()  # UTC; a claim not renewed within the lease is free to take


class ProductChange(BaseModel):
    """The product change log: one row per field changed by a product save (price, tax rate, average cost, unit,
    active flag), who did it, at which till, when, old → new. Append-only, like the journal. Values are the
    column's own value as text (integers stay exact); ``old`` is NULL when the product was created.
    ``kind`` is ``create``, ``edit``, ``revaluation`` (an average cost set by hand) or ``import``."""

    product = ForeignKeyField(Product, backref="changes", index=False)  # (product, id) index below
    field = TextField()
    old = TextField(null=True)
    new = TextField()
    kind = TextField(default="edit")
    note = TextField(default="")
    staff = ForeignKeyField(Staff, null=True, index=False)
    terminal = ForeignKeyField(Terminal, null=True, index=False)
    created_at = TextField()

    class Meta:
        indexes = ((("product", "id"), False),)


ALL_MODELS = [SchemaVersion, Supplier, Staff, Terminal, Product, Barcode, Sale, SaleLine, CountSession, CountLine,
              Movement, OpenSale, OpenSaleLine]
