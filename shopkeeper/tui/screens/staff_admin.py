"""Staff: the list (name, role, PIN set or not, active), and add (a), set role (r), set PIN (p), deactivate (d).
Every act goes through ``services.staff``, which needs ``manage_staff`` (a supervisor's PIN can approve it right
here) and records it in the audit log. No PIN or hash is ever shown."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label, Static

from shopkeeper.services import staff
from shopkeeper.times import local_time
from shopkeeper.tui.format import cell, plain
from shopkeeper.tui.screens.base import ShopModal, ShopScreen
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.top_bar import TopBar


class NewPinScreen(ShopModal[str]):
    """A new PIN, typed twice in password fields (a scanner burst into them is refused by the app's KeyGate)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.member = name

    def compose(self) -> ComposeResult:
        with Vertical(id="pin-box") as box:
            box.border_title = "New PIN"
            yield Label(plain(f"New PIN for {self.member} (4 to 12 digits), twice."))
            yield Input(placeholder="PIN", id="new-pin", password=True, compact=True)
            yield Input(placeholder="PIN again", id="new-pin-again", password=True, compact=True)
            yield Static("", id="pin-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#new-pin", Input).focus()

    @on(Input.Submitted, "#new-pin")
    def _first(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#new-pin-again", Input).focus()

    @on(Input.Submitted, "#new-pin-again")
    def _second(self, event: Input.Submitted) -> None:
        event.stop()
        first, again = self.query_one("#new-pin", Input), self.query_one("#new-pin-again", Input)
        if first.value != again.value:
            first.value = again.value = ""
            self.query_one("#pin-error", Static).update("the two PINs differ: type it again")
            first.focus()
            return
        self.dismiss(first.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class StaffAdminScreen(ShopScreen):
    TITLE = "Staff"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("a", "add", "Add"),
        Binding("r", "role", "Role"),
        Binding("p", "pin", "Set PIN"),
        Binding("d", "deactivate", "Deactivate"),
    ]

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        yield Static("", id="staff-status", markup=False)
        yield DataTable(id="staff-table", cursor_type="row", zebra_stripes=True)
        yield ShopFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#staff-table", DataTable)
        table.add_columns("Name", "Role", "PIN", "Active", "Locked until")
        table.focus()
        self.mark_seen()
        self.refresh_data()

    def refresh_data(self) -> None:
        from shopkeeper.services.permissions import roles_apply

        self.members = staff.list_staff()
        table = self.query_one("#staff-table", DataTable)
        row = table.cursor_row
        table.clear()
        for m in self.members:
            table.add_row(cell(m.name), cell(m.role), "set" if m.has_pin else "–", "yes" if m.active else "no",
                          local_time(m.locked_until) if m.locked_until else "", key=m.name)
        if self.members:
            table.move_cursor(row=min(row, len(self.members) - 1))
        roles = ", ".join(sorted(self.shop.ctx.access.roles))
        note = "" if roles_apply() else " · no PIN set yet: roles apply once one is (set the owner's first)"
        self.query_one("#staff-status", Static).update(f"roles: {roles}{note}")

    def _chosen(self) -> str | None:
        table = self.query_one("#staff-table", DataTable)
        if not self.members:
            self.notify("nobody on the staff list yet: a adds someone", severity="warning", timeout=3)
            return None
        return self.members[min(table.cursor_row, len(self.members) - 1)].name

    def action_add(self) -> None:
        from shopkeeper.tui.screens.sell import PromptScreen

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            self._add(values["name"], values["role"] or "cashier")

        self.app.push_screen(PromptScreen("Add a staff member", [
            ("name", "Name", "as the till lists them", ""),
            ("role", "Role", ", ".join(sorted(self.shop.ctx.access.roles)), "cashier")]), done)

    def _add(self, name: str, role: str) -> None:
        if self.service(lambda: staff.add(self.shop.ctx, name, role), retry=lambda: self._add(name, role)):
            self.notify(f"added {name} ({role}); p sets their PIN", timeout=4)

    def action_role(self) -> None:
        from shopkeeper.tui.screens.sell import PromptScreen

        name = self._chosen()
        if name is None:
            return

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self.service(lambda: staff.set_role(self.shop.ctx, name, values["role"]) or True)

        self.app.push_screen(PromptScreen(f"Role of {name}", [
            ("role", "Role", ", ".join(sorted(self.shop.ctx.access.roles)), "")]), done)

    def action_pin(self) -> None:
        name = self._chosen()
        if name is None:
            return

        def done(pin: str | None) -> None:
            if pin is None:
                return
            if self.service(lambda: staff.set_pin(self.shop.ctx, name, pin) or True):
                self.notify(f"PIN set for {name}", timeout=3)

        self.app.push_screen(NewPinScreen(name), done)

    def action_deactivate(self) -> None:
        name = self._chosen()
        if name is None:
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.service(lambda: staff.deactivate(self.shop.ctx, name) or True)

        self.app.push_screen(ConfirmScreen(f"Deactivate {name}? They keep their name on past records but can no "
                                           f"longer sign in or approve.", yes="Deactivate", no="Keep"), done)


