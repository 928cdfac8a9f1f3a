"""The screens reachable from anywhere by a key and from the command palette.

To add a screen (helper-3's Sell screen is already listed): put a ``Screen`` subclass in its own module under
``shopkeeper/tui/screens/`` and add a ``ScreenEntry`` here. The class is imported only when first opened, and an
entry whose module does not exist yet is skipped, so start-up stays lean. The class is called as
``cls(product_id=...)`` when the entry has ``takes_product`` (the product in view, or None), else ``cls()``.
Subclass ``shopkeeper.tui.screens.base.ShopScreen`` to get Escape, live refresh and palette entries for free.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class ScreenEntry:
    name: str  # action argument: app.action_open("receive")
    title: str  # shown in the footer and the palette
    key: str  # app-wide key binding; "" for the office's screens, opened from the command palette (Ctrl+P)
    help: str  # palette help text
    target: str  # "module:Class", imported lazily
    takes_product: bool = False

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]

    def available(self) -> bool:
        try:
            return importlib.util.find_spec(self.module) is not None
        except ModuleNotFoundError:
            return False

    def load(self) -> type:
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)


SCREENS: list[ScreenEntry] = [
    ScreenEntry("sell", "Sell", "f2", "Ring up a sale at this till", "shopkeeper.tui.screens.sell:SellScreen"),
    ScreenEntry("receive", "Receive", "f3", "Goods in: receive a delivery, item by item",
                "shopkeeper.tui.screens.receive:ReceiveScreen", takes_product=True),
    ScreenEntry("adjust", "Adjust", "f4", "Correct stock for a reason (damaged, lost, found...)",
                "shopkeeper.tui.screens.adjust:AdjustScreen", takes_product=True),
    ScreenEntry("count", "Count", "f5", "Stock count: walk the shelves, then post the variances",
                "shopkeeper.tui.screens.count:CountScreen", takes_product=True),
    ScreenEntry("journal", "Journal", "f6", "Every stock movement, newest first, with filters",
                "shopkeeper.tui.screens.journal:JournalScreen", takes_product=True),
    ScreenEntry("till", "Till", "f11", "Till session: float, cash in/out, no sale, X report, close with the Z report",
                "shopkeeper.tui.screens.till:TillScreen"),
    ScreenEntry("reports", "Reports", "f10", "Sales, best sellers, slow movers, valuation, shrinkage, movement, ABC",
                "shopkeeper.tui.screens.reports:ReportsScreen"),
    ScreenEntry("suppliers", "Suppliers", "", "Suppliers and the products each one sells (codes, packs, costs)",
                "shopkeeper.tui.screens.suppliers:SuppliersScreen"),
    ScreenEntry("orders", "Orders", "", "Purchase orders: draft, edit, send, receive against, close",
                "shopkeeper.tui.screens.orders:OrdersScreen"),
    ScreenEntry("audit", "Audit log", "", "Every sensitive act: voids, discounts, overrides, PIN failures, staff "
                "and product changes", "shopkeeper.tui.screens.audit_log:AuditLogScreen"),
    ScreenEntry("staff", "Staff", "", "Staff members: add, role, PIN, deactivate (manage_staff)",
                "shopkeeper.tui.screens.staff_admin:StaffAdminScreen"),
]


def available_screens() -> list[ScreenEntry]:
    return [entry for entry in SCREENS if entry.available()]


def entry(name: str) -> ScreenEntry:
    for e in SCREENS:
        if e.name == name:
            return e
    raise KeyError(name)
