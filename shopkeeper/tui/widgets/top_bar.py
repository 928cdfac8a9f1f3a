"""The one-line bar at the top of every screen: shop, screen title, who is at the till, which terminal; and, in
red, that the database server cannot be reached."""

from __future__ import annotations

from textual.widgets import Static

from shopkeeper.tui.format import plain


class TopBar(Static):
    DEFAULT_CSS = """
    TopBar { height: 1; width: 1fr; background: $primary; color: $text; text-style: bold; padding: 0 1; }
    TopBar.server-down { background: $error; }
    TopBar.training { background: $warning; color: $text; }
    """

    def __init__(self, title: str) -> None:
        super().__init__(id="topbar", markup=False)
        self.title = title

    def on_mount(self) -> None:
        self.update_text()

    def update_text(self) -> None:
        app = self.app
        shop = getattr(app, "config", None)
        ctx = getattr(app, "ctx", None)
        parts = [shop.shop.name if shop else "shopkeeper", self.title]
        if ctx is not None:
            parts.append(f"staff: {ctx.staff or '-'}")
            parts.append(f"till: {ctx.terminal or '-'}")
        training = bool(getattr(app, "training", False))
        if training:  # a practice copy: said in words, so it shows without colour too
            parts.insert(0, "*** TRAINING ***")
        self.set_class(training, "training")
        if training:
            self.screen.border_title = "TRAINING"
            self.screen.border_subtitle = "TRAINING: nothing here is real"
        down = getattr(app, "server_down", "")
        if down:  # on PostgreSQL, while the server cannot be reached (``ShopkeeperApp.connection_lost``)
            parts.insert(0, "SERVER UNREACHABLE, retrying: no payments")
        self.set_class(bool(down), "server-down")
        self.update(plain(" · ".join(parts)))  # shop and staff names are data
