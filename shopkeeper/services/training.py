"""Training mode: a practice copy of the shop in a database of its own, and a guided first day for a new cashier.

The copy is a SQLite file: next to a SQLite shop (``shop.db`` → ``shop.training.db``); for a PostgreSQL shop in
the data folder (``training-<database>.db``), so practice never needs a server's permissions and never touches the
shop's schema. It holds the shop's catalogue (suppliers, products, prices, costs, barcodes) and its stock on hand as
one opening ``adjust`` movement per product, and a ``training`` setting that marks it: every screen and receipt
opened on it says TRAINING. Nothing is ever written to the real shop: its journal, drawer and books never see a
practice sale. ``prepare(reset=True)`` starts the copy afresh; it refuses while an app has the copy open (its till
claim, ``services.till_claim``), as replacing the file under a running app would pull it from under that app.

Staff: the copy has the shop's staff with their roles and PIN hashes (refreshed from the shop each time training
starts), so a trainee signs in with their own PIN and practises the supervisor prompt for a refund or a void as it
is in the shop. The hashes are as safe there as in the shop: the copy is created readable by its owner only, like
the shop, and no export or JSON output ever carries a hash. PIN failures and lockouts in practice stay in the copy.

Switching to training needs the ``training`` permission (``begin``): a cashier gets the supervisor prompt, and the
shop's audit log records who opened training at which till, and who approved it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from shopkeeper.db import close_database, open_database, write_transaction
from shopkeeper.errors import ShopError
from shopkeeper.models import ShopSetting, Staff, database

SETTING = "training"
MARK = "TRAINING"
RECEIPT_MARK = "TRAINING — NOT A RECEIPT"
OPENING_REASON = "training: opening stock copied from the shop"

_COPIED = {
    "supplier": ("id", "name", "contact", "lead_days"),
    "product": ("id", "sku", "name", "unit", "price", "tax_rate", "avg_cost", "reorder_point", "reorder_qty",
                "supplier_id", "category", "active", "updated_at"),
    "barcode": ("id", "code", "product_id"),
}
_STAFF = ("name", "active", "role", "pin_hash")  # by name: the copy's own rows refer to its own staff ids
STARTED = "training_started"  # the audit event in the real shop


def begin(ctx) -> None:
    """A till is switched to the practice copy: needs ``training`` (a cashier: a supervisor's PIN, checked here),
    and the real shop's audit log says who did it at which till and who approved it. Call on the real shop."""
    record_start(ctx, allowed(ctx))


def allowed(ctx):
    """The ``training`` permission's check alone (``permissions.require``): before the copy is made or reset."""
    from shopkeeper.services import permissions

    if active():
        raise ShopError("this database is itself a training copy; open the real shop to start training")
    return permissions.require(ctx, permissions.TRAINING)


def record_start(ctx, approval) -> None:
    """Training started at ``ctx.terminal``, in the real shop's audit log (with the override, when approved)."""
    from shopkeeper.services import audit_log

    with write_transaction():
        audit_log.record(ctx, STARTED, subject=f"terminal:{ctx.terminal}", supervisor_id=approval.supervisor_id)
        approval.record(ctx, "training")


def training_location(location: str) -> Path:
    """Where the practice copy of the shop at ``location`` lives."""
    from shopkeeper.locations import sqlite_path

    if location.startswith(("postgres://", "postgresql://")):
        from shopkeeper.config import default_data_dir

        name = location.rsplit("/", 1)[-1].split("?", 1)[0] or "shop"
        folder = default_data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"training-{name}.db"
    path = sqlite_path(location)
    if path is None:
        raise ShopError("training needs a shop in a file or on a server, not in memory")
    if path.name.endswith(".training.db"):
        raise ShopError(f"database {path} is already a training copy; open the real shop to start training")
    return path.with_name(f"{path.stem}.training.db")


def active() -> bool:
    """Whether the open database is a training copy (read once per database; the mark never changes). No database
    open (a printer test, a tool): not training."""
    if database.obj is None:
        return False
    key = str(database.obj.database)
    if key not in _active:
        row = ShopSetting.get_or_none(ShopSetting.key == SETTING)
        _active[key] = row is not None and row.value == "1"
    return _active[key]


_active: dict[str, bool] = {}


@dataclass(frozen=True)
class Prepared:
    path: Path
    created: bool
    products: int


def prepare(location: str, *, reset: bool = False, busy_timeout_ms: int = 10_000) -> Prepared:
    """Make sure the practice copy of the shop at ``location`` exists (a fresh one with ``reset``) and return where
    it is. Reads the shop (the bound database must be it, or nothing is bound) and leaves nothing bound."""
    target = training_location(location)
    if database.obj is None or database.obj.is_closed():
        open_database(location, busy_timeout_ms=busy_timeout_ms, create=False)
    if active():
        raise ShopError("this database is itself a training copy; open the real shop to start training")
    staff = database.execute_sql(f"SELECT {', '.join(_STAFF)} FROM staff ORDER BY id").fetchall()
    if target.exists() and not reset:
        close_database()
        _refuse_foreign(target, busy_timeout_ms)
        open_database(str(target), busy_timeout_ms=busy_timeout_ms)
        try:
            with write_transaction():
                _copy_staff(staff)
        finally:
            close_database()
        return Prepared(target, False, 0)
    copied = {table: database.execute_sql(f"SELECT {', '.join(cols)} FROM {table} ORDER BY id").fetchall()
              for table, cols in _COPIED.items()}
    stock = database.execute_sql("SELECT id, on_hand, avg_cost FROM product WHERE on_hand <> 0 ORDER BY id").fetchall()
    settings = database.execute_sql("SELECT key, value FROM shop_setting").fetchall()
    close_database()
    if target.exists():
        _refuse_foreign(target, busy_timeout_ms)
        _refuse_open(target, busy_timeout_ms)
    building = target.with_name(target.name + ".building")
    for path in (building, *_sidecars(building)):
        path.unlink(missing_ok=True)
    open_database(str(building), busy_timeout_ms=busy_timeout_ms)
    try:
        _fill(copied, stock, settings, staff)
    finally:
        close_database()
    for path in (target, *_sidecars(target)):
        path.unlink(missing_ok=True)
    building.rename(target)
    return Prepared(target, True, len(copied["product"]))


def _sidecars(path: Path) -> tuple[Path, ...]:
    return tuple(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal"))


def _refuse_foreign(target: Path, busy_timeout_ms: int) -> None:
    """A file at the training copy's place that is not a training copy is never replaced nor opened as one."""
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM shop_setting WHERE key = ?", (SETTING,)).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        row = None
    if row is None or row[0] != "1":
        raise ShopError(f"{target} is not a training copy: it is never replaced or used for training; move it "
                        "away first", field="db", reason="not a training copy")


def _refuse_open(target: Path, busy_timeout_ms: int) -> None:
    """A copy an app is running on (a live till claim in it) is never replaced: the app would go on writing to a
    file that is gone. Says which till, process and host have it open."""
    from shopkeeper.services.till_claim import live_claims

    open_database(str(target), busy_timeout_ms=busy_timeout_ms)
    try:
        live = live_claims()
    finally:
        close_database()
    if live:
        who = "; ".join(f"till {row.name} (pid {row.pid} on {row.host}, since {row.claimed_at[:19].replace('T', ' ')}"
                        f" UTC)" for row in live)
        raise ShopError(f"the practice copy {target} is open in the app at {who}: leave training there first (the "
                        "guide's x, or quit), then reset it; nothing was changed", field="reset", reason="in use")


def _copy_staff(staff: list[tuple]) -> None:
    """The shop's staff, roles and PIN hashes into the copy (inside its write transaction), matched by name; PIN
    failures and lockouts in the copy are its own. Members only in the copy are kept."""
    for name, active_, role, pin_hash in staff:
        (Staff.insert(name=name, active=active_, role=role, pin_hash=pin_hash)
         .on_conflict(conflict_target=[Staff.name],
                      update={Staff.active: active_, Staff.role: role, Staff.pin_hash: pin_hash}).execute())


def _fill(copied: dict[str, list[tuple]], stock: list[tuple], settings: list[tuple], staff: list[tuple]) -> None:
    from shopkeeper.services.context import Context
    from shopkeeper.services.stock import Entry, post_movements

    p = database.obj.param
    with write_transaction():
        for table, cols in _COPIED.items():
            rows = copied[table]
            if table == "product":  # its stock arrives below, as a movement, like any stock
                cols, rows = (*cols, "on_hand"), [(*row, 0) for row in rows]
            if rows:
                database.obj.connection().cursor().executemany(
                    f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([p] * len(cols))})", rows)
        _copy_staff(staff)
        for key, value in [*settings, (SETTING, "1")]:
            (ShopSetting.insert(key=key, value=value)
             .on_conflict(conflict_target=[ShopSetting.key], update={ShopSetting.value: value}).execute())
        entries = [Entry(pid, "adjust", qty, unit_cost=cost, reason=OPENING_REASON) for pid, qty, cost in stock]
        if entries:
            post_movements(Context(staff="training", terminal="training", negative_stock="allow"), entries,
                           savepoint=False)
    _active.pop(str(database.obj.database), None)


# --- the guided first day -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    key: str
    title: str
    how: str  # what to press


STEPS = (  # each ``how`` fits one line of the guide at 80 columns (70 characters)
    Step("sale", "Ring up a sale",
         "F2 Sell · scan an item (or type its code, Enter) · F8 Enter: by card"),
    Step("weighed", "Sell a weighed item",
         "F2 · 0.75*APPLES-KG Enter (or scan a scale label) · F7 Enter: cash"),
    Step("refund", "Refund an item",
         "F2 · Ctrl+F · the sale's number, Enter · F7 Enter · supervisor's PIN"),
    Step("void", "Void a sale",
         "F2 · scan an item · Ctrl+N · y (a supervisor's PIN): nothing sold"),
    Step("park", "Park a sale",
         "F2 · scan an item · Ctrl+Y park: next customer; Ctrl+O brings it back"),
    Step("count", "Count a shelf",
         "F5 Count · scan an item · type what is on the shelf · F9 posts"),
)


@dataclass
class Guide:
    """Which steps of the first day the trainee has done, read from the training database's rows (never from key
    presses). A void leaves no sale behind: it is seen as an open sale with lines that vanished without becoming
    a sale, between two reads (the guide screen reads after every change)."""

    seen: dict[str, tuple[frozenset[int], int]] = field(default_factory=dict)  # per trainee: drafts, sales
    voided: set[str] = field(default_factory=set)  # trainees (lower case) seen voiding a sale

    def progress(self, staff: str = "") -> dict[str, bool]:
        """The steps done by ``staff`` (any case; every trainee when empty): the copy is shared, and the next new
        cashier starts their own first day on it, not one already ticked by the last."""
        p = database.param
        by = f" AND {{}} IN (SELECT id FROM staff WHERE LOWER(name) = LOWER({p}))" if staff else ""
        args = (staff,) if staff else ()

        def q(sql: str, column: str = ""):
            return database.execute_sql(sql.replace("{by}", by.format(column) if by else ""),
                                        args if by and column else ())

        done = {
            "sale": bool(q("SELECT 1 FROM sale s WHERE s.kind = 'sale'{by} LIMIT 1", "s.staff_id").fetchone()),
            "weighed": bool(q("SELECT 1 FROM sale_line l JOIN product p ON p.id = l.product_id JOIN sale s "
                              "ON s.id = l.sale_id WHERE s.kind = 'sale' AND (p.unit <> 'pcs' OR "
                              "l.quantity % 1000 <> 0){by} LIMIT 1", "s.staff_id").fetchone()),
            "refund": bool(q("SELECT 1 FROM sale s WHERE s.kind = 'return'{by} LIMIT 1", "s.staff_id").fetchone()),
            "park": bool(q("SELECT 1 FROM open_sale o WHERE (o.status = 'parked' OR o.note <> ''){by} LIMIT 1",
                           "o.staff_id").fetchone()),
            "count": bool(q("SELECT 1 FROM movement m WHERE m.kind = 'count'{by} LIMIT 1", "m.staff_id").fetchone()),
        }
        with contextlib.suppress(Exception):  # the audit log names voids once the staff branch records them
            if q("SELECT 1 FROM audit_event a WHERE a.kind LIKE '%void%'{by} LIMIT 1", "a.staff_id").fetchone():
                self.voided.add(staff.lower())
        drafts = frozenset(r[0] for r in q("SELECT DISTINCT l.open_sale_id FROM open_sale_line l JOIN open_sale o "
                                            "ON o.id = l.open_sale_id WHERE 1 = 1{by}", "o.staff_id"))
        sales = q("SELECT COUNT(*) FROM sale s WHERE 1 = 1{by}", "s.staff_id").fetchone()[0]
        before = self.seen.get(staff.lower())
        if before is not None and before[1] == sales and before[0] - drafts:
            self.voided.add(staff.lower())  # a draft with lines is gone and no sale was made of it
        self.seen[staff.lower()] = (drafts, sales)
        done["void"] = staff.lower() in self.voided
        return {step.key: done[step.key] for step in STEPS}
