"""Typing a zero quantity before a code in the sell screen: a message, not a crashed till."""
import asyncio
import os

from shopkeeper.config import Config

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


def test_zero_quantity_typed_is_a_message_not_a_crash(demo_db, db_path, ctx):
    from shopkeeper.tui.app import ShopkeeperApp
    from shopkeeper.tui.screens.sell import SellScreen

    async def main():
        app = ShopkeeperApp(str(db_path), Config(), ctx, poll_interval=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("f2")
            await pilot.pause()
            assert isinstance(app.screen, SellScreen)
            await pilot.press(*"0*MILK-1L", "enter")
            await pilot.pause(0.2)
            assert app.is_running and isinstance(app.screen, SellScreen)
        assert app.return_code in (0, None), f"app exited with {app.return_code}"

    asyncio.run(main())
