"""Peewee models, nothing else.

Money columns hold integer minor units; quantity columns hold integer thousandths (see ``money.py``), bounded by
``bounds.py``. Integers are 64-bit (``bigint`` on PostgreSQL; SQLite's INTEGER is already), text is unbounded
``text``: new models use ``BigIntegerField``/``TextField`` too.
Timestamps are UTC ISO-8601 text (``2026-11-25T10:00:00.123456Z``), which sorts and compares as time does.
"""

from __future__ import annotations

from peewee import (
    SQL,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    DatabaseProxy,
    ForeignKeyField,
    Model,
    TextField,
)


class _DatabaseProxy(DatabaseProxy):
    def savepoint(self):
        """The bound database's own savepoint (``database.atomic()`` nested): Peewee's proxy would make a plain one,
        past what ``shopkeeper.db`` adds to a rollback (counting it, SQLite's own rollback after an error)."""
        return self.obj.savepoint()


database = _DatabaseProxy()


class BaseModel(Model):
    id = BigAutoField()

    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = BigIntegerField()


class Supplier(BaseModel):
    """Who the shop buys from. Mutable record; orders to it keep their own history (``PurchaseOrderEvent``)."""

    name = TextField(unique=True)
    contact = TextField(default="")
    lead_days = BigIntegerField(default=0)  # days from sending an order to the goods on the shelf
    email = TextField(default="", constraints=[SQL("DEFAULT ''")])
    phone = TextField(default="", constraints=[SQL("DEFAULT ''")])
    review_days = BigIntegerField(default=7, constraints=[SQL("DEFAULT 7")])  # how often orders go out (the review period), in days
    order_days = TextField(default="", constraints=[SQL("DEFAULT ''")])  # weekdays orders go out, "mon,thu"; empty: every review_days
    min_order = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])  # minimum order value, minor units at cost
    notes = TextField(default="", constraints=[SQL("DEFAULT ''")])
    active = BooleanField(default=True, constraints=[SQL("DEFAULT TRUE")])


class Staff(BaseModel):
    """A person who works the till. ``pin_hash`` is a salted scrypt hash with its parameters
    (``services/pins.py``), never the PIN; it never leaves the services (no JSON, export or log carries it)."""

    name = TextField(unique=True)
    active = BooleanField(default=True)
    role = TextField(default="cashier", constraints=[SQL("DEFAULT 'cashier'")])  # a [roles.<name>] of the config
    pin_hash = TextField(null=True)
    failed_pins = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])  # wrong PINs in a row
    locked_until = TextField(null=True)  # UTC; no PIN is accepted before then


class Terminal(BaseModel):
    name = TextField(unique=True)


class Product(BaseModel):
    sku = TextField(unique=True)
    name = TextField()
    unit = TextField(default="pcs")
    price = BigIntegerField(default=0)  # minor units, as sold (tax-inclusive or not per config)
    tax_rate = BigIntegerField(default=0)  # money.RATE_SCALE: 20000 = 20 %, 8875 = 8.875 % (basis points before m017)
    avg_cost = BigIntegerField(default=0)  # moving average cost, minor units per unit
    reorder_point = BigIntegerField(default=0)  # thousandths
    reorder_qty = BigIntegerField(default=0)  # thousandths
    supplier = ForeignKeyField(Supplier, null=True, backref="products", on_delete="SET NULL")
    category = TextField(default="")
    active = BooleanField(default=True)
    on_hand = BigIntegerField(default=0)  # cache of SUM(movement.quantity), thousandths
    updated_at = TextField(default="")
    reorder_mode = TextField(default="auto", constraints=[SQL("DEFAULT 'auto'")])  # auto: reorder point learned from demand | manual: typed by hand
    on_order = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])  # cache: open purchase order quantity not yet received, thousandths


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
    payment = TextField()  # cash | card | other, or split (several methods: see its Payment rows)
    tendered = BigIntegerField(null=True)
    change = BigIntegerField(null=True)
    reason = TextField(default="")
    till_session = BigIntegerField(null=True)  # the TillSession it was rung up in (none: CLI, counter, before m015)
    rounding = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])  # cash rounding: amount paid minus total (e.g. -2 when 9.98 is paid 9.95)


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
    supplier = ForeignKeyField(Supplier, null=True, index=False)  # receive / supplier_return: whose goods
    po_line = BigIntegerField(null=True)  # receive / supplier_return against this purchase order line (partial index)

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


class OpenSalePayment(BaseModel):
    """A part payment taken on an open sale before it is settled (a card payment for part of the total, cash that
    does not cover it): kept with the draft, so closing the payment dialog, a dropped session or a crash never
    forgets money already taken. ``till.complete`` pays the sale with these first. Mutable draft state, deleted
    with the draft. Created by ``_m023_open_sale_payments``, not m001."""

    open_sale = ForeignKeyField(OpenSale, backref="payments", on_delete="CASCADE")
    method = TextField()  # cash | card | other
    amount = BigIntegerField()  # what it settles, positive
    staff = ForeignKeyField(Staff, null=True)
    created_at = TextField()


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


class ProductSupplier(BaseModel):
    """A product as a supplier sells it: their item code, the pack it comes in and what a pack costs."""

    product = ForeignKeyField(Product, backref="supplier_links", on_delete="CASCADE", index=False)
    supplier = ForeignKeyField(Supplier, backref="product_links", on_delete="CASCADE")
    preferred = BooleanField(default=False)  # at most one per product (partial unique index, m014)
    item_code = TextField(default="")
    pack_size = BigIntegerField(default=1000)  # units per pack, thousandths (a case of 24: 24000)
    pack_cost = BigIntegerField(default=0)  # minor units per pack

    class Meta:
        indexes = ((("product", "supplier"), True),)


class PurchaseOrder(BaseModel):
    """An order to one supplier. ``status`` is a cache of its latest ``PurchaseOrderEvent`` (the history, append-only):
    draft → sent → partly_received → received, or cancelled."""

    supplier = ForeignKeyField(Supplier, backref="orders")
    status = TextField(default="draft")
    created_at = TextField()
    updated_at = TextField()
    staff = ForeignKeyField(Staff, null=True, index=False)
    note = TextField(default="")
    automatic = BooleanField(default=False)  # drafted by ``po draft`` from the suggestions (it may update it)


class PurchaseOrderLine(BaseModel):
    order = ForeignKeyField(PurchaseOrder, backref="lines", on_delete="CASCADE")
    line_no = BigIntegerField()
    product = ForeignKeyField(Product, index=False)
    item_code = TextField(default="")  # the supplier's, copied from ProductSupplier when the line was made
    pack_size = BigIntegerField(default=1000)  # thousandths of a unit per pack
    quantity = BigIntegerField()  # ordered, thousandths of units (packs × pack_size)
    unit_cost = BigIntegerField(default=0)  # minor units per unit, what receiving books unless changed
    received = BigIntegerField(default=0)  # cache: sum of the receive movements against the line, thousandths
    cancelled = BigIntegerField(default=0)  # thousandths no longer expected (order closed short)
    pack_cost = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])  # minor units per pack: the order's price
    edited = BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")])  # changed by a person: ``po draft`` leaves it


class PurchaseOrderEvent(BaseModel):
    """Every status change of a purchase order, who and when. Append-only."""

    order = ForeignKeyField(PurchaseOrder, backref="events", index=False)
    status = TextField()
    staff = ForeignKeyField(Staff, null=True, index=False)
    terminal = ForeignKeyField(Terminal, null=True, index=False)
    created_at = TextField()
    note = TextField(default="")


class TillSession(BaseModel):
    """A till opened with a float: the unit of cash accountability. Append-only; its close is a ``TillSessionClose``.
    ``number`` counts per till (the Z report number)."""

    terminal = ForeignKeyField(Terminal, index=False)
    number = BigIntegerField()
    opened_at = TextField()
    opened_by = ForeignKeyField(Staff, null=True, index=False)
    float_amount = BigIntegerField(default=0)  # minor units
    float_detail = TextField(default="")  # JSON {denomination minor units: count}, when counted by denomination

    class Meta:
        indexes = ((("terminal", "number"), True),)


class TillSessionClose(BaseModel):
    """The Z report's figures, written once when the session closes. Append-only, one per session."""

    session = ForeignKeyField(TillSession, unique=True)
    closed_at = TextField()
    closed_by = ForeignKeyField(Staff, null=True, index=False)
    expected_cash = BigIntegerField()
    counted_cash = BigIntegerField()
    counted_detail = TextField(default="")  # JSON {denomination: count}
    over_short = BigIntegerField()  # counted − expected: negative is short
    report = TextField(default="")  # the Z report's figures as JSON, exactly as printed
    chain_head = TextField(default="")  # the journal's chain head at closing (see "A tamper-evident journal")


class CashMovement(BaseModel):
    """Cash into or out of a till's drawer other than sales: ``cash_in`` / ``cash_out`` (paid-outs, petty cash, safe
    drops) with a reason, and ``no_sale`` (the drawer opened, amount 0). Append-only."""

    session = ForeignKeyField(TillSession, backref="cash_movements", index=False)
    kind = TextField()
    amount = BigIntegerField(default=0)  # minor units, positive; the kind gives the direction
    reason = TextField(default="")
    staff = ForeignKeyField(Staff, null=True, index=False)
    terminal = ForeignKeyField(Terminal, null=True, index=False)
    created_at = TextField()

    class Meta:
        indexes = ((("session", "id"), False),)


class Payment(BaseModel):
    """One tender of a sale or refund (split tender: several rows). ``amount`` is what the tender settles, signed
    like the sale's total (negative on refunds); cash ``tendered``/``change`` are what crossed the counter.
    Append-only. Sales before m015 got one row each from their ``payment`` column."""

    sale = ForeignKeyField(Sale, backref="payments", index=False)
    method = TextField()  # cash | card | other
    amount = BigIntegerField()
    tendered = BigIntegerField(null=True)
    change = BigIntegerField(null=True)

    class Meta:
        indexes = ((("sale", "id"), False),)


class AuditEvent(BaseModel):
    """The audit log: every sensitive act that is not a stock movement (void, line removed, discount, price override,
    product field changed, drawer opened, supervisor override, PIN failure, staff change, count cancelled, backup,
    export). Append-only. ``detail`` is JSON; ``subject`` names what it is about (``sale:12``, ``staff:3``)."""

    created_at = TextField(index=True)
    kind = TextField()
    staff = ForeignKeyField(Staff, null=True, index=False)
    supervisor = ForeignKeyField(Staff, null=True, index=False)  # who approved it, on an override
    terminal = ForeignKeyField(Terminal, null=True, index=False)
    subject = TextField(default="")
    detail = TextField(default="")


class ImportRun(BaseModel):
    """Progress of one product import (``services/import_runs.py``): mutable bookkeeping, not history."""

    source = TextField()
    digest = TextField(index=True)  # SHA-256 of the file: the same file carries on where it stopped
    rows_total = BigIntegerField()
    rows_done = BigIntegerField(default=0)
    last_line = BigIntegerField(default=0)  # the file's line up to which every row is stored
    started_at = TextField()
    updated_at = TextField()
    finished_at = TextField(null=True)
    count_session = ForeignKeyField(CountSession, null=True, index=False)
    staff = ForeignKeyField(Staff, null=True, index=False)
    terminal = ForeignKeyField(Terminal, null=True, index=False)


ALL_MODELS = [SchemaVersion, Supplier, Staff, Terminal, Product, Barcode, Sale, SaleLine, CountSession, CountLine,
              Movement, OpenSale, OpenSaleLine]
