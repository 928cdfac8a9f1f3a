"""Command palette (Ctrl+P): every screen in the registry, the actions of the screen in view, app actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ShopCommands(Provider):
    """Palette entries that follow the screen: ``screen.palette_commands()`` yields ``(title, help, callback)``."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        from shopkeeper.tui.registry import available_screens

        app = self.app
        screen = self.screen
        commands: list[tuple[str, str, Callable[[], object]]] = []
        palette = getattr(screen, "palette_commands", None)
        if palette is not None:
            commands.extend(palette())
        for e in available_screens():
            commands.append((f"Open {e.title}", f"{e.help} ({e.key.upper()})" if e.key else e.help,
                             partial(app.action_open, e.name)))
        commands.append(("Stock", "Back to the stock table", app.action_home))
        commands.append(("Who is at the till", "Staff: change the cashier recorded on sales and movements",
                         app.action_choose_staff))
        commands.append(("Training", "Switch this till to the practice copy (a supervisor's; F11, Ctrl+T); in "
                         "training: the guide",
                         app.action_training))
        commands.append(("Help", "Keys and screens (F1)", app.action_help))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """An entry is found by its title or by the words of its help (people say "staff" or "cashier" for "Who is
        at the till"); a match in the title ranks first."""
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
                continue
            score = matcher.match(help_text)
            if score > 0:
                yield Hit(score / 2, title, callback, help=help_text)
