"""The training guide (in training: F11 Till, Ctrl+T; or Ctrl+P, Training): a new cashier's first day, step by
step, each ticked off when the training database shows it happened (``services.training.Guide``), never on a key
press."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from shopkeeper.services.training import STEPS
from shopkeeper.tui.screens.base import ShopScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.top_bar import TopBar


class TrainingGuideScreen(ShopScreen):
    TITLE = "Training: your first day"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Start practising"),
        Binding("x", "leave", "Leave training"),
    ]

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        with VerticalScroll(id="guide"):
            yield Static("Practise here as much as you like: this is a copy of the shop. Nothing you do reaches "
                         "the real stock, the drawer or the books. Each step is ticked when it has really "
                         "happened. Esc: start; F11 then Ctrl+T (or Ctrl+P, Training): back to this guide.",
                         classes="hint", markup=False)
            for n, step in enumerate(STEPS, 1):
                yield Static(self._line(n, step, False), id=f"step-{step.key}", classes="guide-step", markup=False)
            yield Static("", id="guide-summary", classes="title", markup=False)
        yield ShopFooter()

    @staticmethod
    def _line(n: int, step, done: bool) -> str:
        mark = "[x]" if done else "[ ]"
        state = "done" if done else "to do"
        return f"{mark} {n}. {step.title} ({state})\n      {step.how}"

    def on_mount(self) -> None:
        self.show(self.shop.training_progress)

    def refresh_data(self) -> None:
        self.shop._observe_training()

    def show(self, progress: dict[str, bool]) -> None:
        for n, step in enumerate(STEPS, 1):
            done = progress.get(step.key, False)
            widget = self.query_one(f"#step-{step.key}", Static)
            widget.update(self._line(n, step, done))
            widget.set_class(done, "-done")
        finished = sum(progress.get(step.key, False) for step in STEPS)
        self.query_one("#guide-summary", Static).update(
            f"{finished} of {len(STEPS)} done" + (": well done, you are ready for the till" if finished == len(STEPS)
                                                   else ""))

    def action_leave(self) -> None:
        from shopkeeper.tui.app import LEAVE_TRAINING

        if self.shop.training_of:
            self.app.exit(LEAVE_TRAINING)
        else:
            self.app.exit()
