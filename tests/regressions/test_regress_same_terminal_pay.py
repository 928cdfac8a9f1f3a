"""Two sessions at one terminal name: what the cash prompt shows is not what complete() charges."""
import asyncio
import os

from shopkeeper.config import Config
from shopkeeper.services import till
from shopkeeper.services.context import Context

MILK, COFFEE = "4006381333931", "8711000530085"
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


def test_cash_prompt_total_is_what_is_charged(demo_db, db_path, ctx):
    from shopkeeper.tui.app import ShopkeeperApp
    from shopkeeper.tui.screens.payment import PaymentScreen
    from shopkeeper.tui.screens.sell import SellScreen

    async def main():
        app = ShopkeeperApp(str(db_path), Config(), ctx, poll_interval=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            from shopkeeper.models import Sale
            before = Sale.select().count()
            await pilot.press("f2")
            await pilot.pause()
            assert isinstance(app.screen, SellScreen)
            app.deliver_scan(MILK)
            await pilot.pause()
            await pilot.press("f7")
            await pilot.pause()
            assert isinstance(app.screen, PaymentScreen)
            prompt_total = app.screen.due                 # what the payment dialog shows as due
            other = Context(staff="second-ssh", terminal=ctx.terminal, default_tax_rate=20_000)
            till.add_scan(other, COFFEE)                  # the other SSH session at "till-1"
            await pilot.pause(0.3)
            await pilot.press("enter")                    # blank: exact amount
            await pilot.pause(0.3)
            for w in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause()
            new = list(Sale.select().order_by(Sale.id).offset(before))
            assert prompt_total == 129
            # the cashier took 1.29 "exact"; any sale committed must be for what the prompt showed
            assert all(s.total == 129 for s in new), [(s.total, s.tendered) for s in new]

    asyncio.run(main())
