"""Text from data is never markup and never terminal control, on any screen (issue "Nothing lost, nothing injected").

A database written before the text rule (or by another program) holds a product, a supplier, a staff member, a
movement reason, a parked note and sale lines whose text carries Textual markup and terminal escape sequences. Every
screen and notification is walked: the app keeps running, the text is shown literally, and no ESC byte is painted.
"""

from __future__ import annotations

from shopkeeper.db import utcnow
from shopkeeper.models import Movement, OpenSale, OpenSaleLine, Product, Staff, Supplier, Terminal
from shopkeeper.services import stock
from shopkeeper.text import safe
from shopkeeper.tui.screens.adjust import AdjustScreen
from shopkeeper.tui.screens.count import CountScreen
from shopkeeper.tui.screens.help import HelpScreen
from shopkeeper.tui.screens.journal import JournalScreen
from shopkeeper.tui.screens.product import ProductScreen
from shopkeeper.tui.screens.receive import ReceiveScreen
from shopkeeper.tui.screens.sell import ParkedScreen, SellScreen
from shopkeeper.tui.screens.staff import StaffScreen
from shopkeeper.tui.screens.stock import StockScreen
from tests.tui.conftest import press_alone, settle

SIZE = (200, 50)
MARKUP = "[/x][link=https://x]y[/link][bold]B"
ESCAPES = "\x1b]2;pwned\x07\x1b[2J"  # retitle the terminal, then clear it
BAD = MARKUP + ESCAPES
SHOWN = safe(BAD)  # [/x][link=https://x]y[/link][bold]B\x1b]2;pwned\x07\x1b[2J, as typed characters
STAFF = "Eve" + BAD
NAME = "Tee" + BAD


def screen_text(app) -> str:
    """What the screen in view paints, as text (every widget, dialogs and notifications included)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def assert_shown(app, *texts: str) -> str:
    assert app.is_running
    painted = screen_text(app)
    assert "\x1b" not in painted and "\x07" not in painted
    for text in texts:
        assert text in painted, f"{text!r} is not on the screen"
    return painted


def seed_bad_text() -> int:
    """Rows as an older version (or another program) could have stored them: straight into the tables."""
    now = utcnow()
    supplier = Supplier.create(name="Sup" + BAD)
    product = Product.create(sku="EVIL-1", name=NAME, unit="pcs", price=250, reorder_point=5_000,
                             reorder_qty=10_000, supplier=supplier, category=BAD, on_hand=10_000, updated_at=now)
    staff = Staff.create(name=STAFF)
    till = Terminal.get_or_create(name="till-1")[0]
    Movement.insert(product=product, kind="receive", quantity=10_000, unit_cost=100, reason=BAD, staff=staff,
                    terminal=till, created_at=now, reference=BAD).execute()
    sale = OpenSale.create(terminal=till, staff=staff, status="open", created_at=now, updated_at=now)
    OpenSaleLine.create(open_sale=sale, line_no=1, product=product, description=NAME, quantity=1_000, unit_price=250)
    OpenSaleLine.create(open_sale=sale, line_no=2, product=None, description="One" + BAD, quantity=1_000,
                        unit_price=400)
    parked = OpenSale.create(terminal=till, staff=staff, status="parked", note="Note" + BAD, created_at=now,
                             updated_at=now)
    OpenSaleLine.create(open_sale=parked, line_no=1, product=product, description=NAME, quantity=1_000,
                        unit_price=250)
    return product.id


async def test_every_screen_shows_markup_and_escapes_from_data_as_text(shop, make_app, till_ctx):
    product_id = seed_bad_text()
    app = make_app(till_ctx.as_staff(STAFF))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, StockScreen)
        assert_shown(app, "Tee" + SHOWN, "Eve" + MARKUP)  # the stock table and the top bar

        # the low-stock notification quoting the name (a MarkupError here used to close the app)
        stock.adjust(app.ctx, "EVIL-1", -6_000, "damaged")
        app.data_changed()
        await settle(app, pilot)
        assert any(n.title == "Low stock" and "Tee" + SHOWN in n.message for n in app._notifications)
        assert_shown(app, "Tee" + MARKUP)  # in the toast and in the low-stock pane
        app.clear_notifications()

        app.action_open_product(product_id)
        await settle(app, pilot)
        assert isinstance(app.screen, ProductScreen)
        assert app.screen.query_one("#name").value == "Tee" + SHOWN
        assert app.screen.query_one("#category").value == SHOWN
        assert_shown(app, "EVIL-1 · on hand")
        await pilot.press("f6")  # the product's journal: reason, who
        await settle(app, pilot)
        assert_shown(app, "Eve[/x][")
        app.action_home()
        await settle(app, pilot)

        await pilot.press("f2")  # sell: the open sale holds the product and a one-off line
        await settle(app, pilot)
        assert isinstance(app.screen, SellScreen)
        assert_shown(app, "Tee[/x][link=https://x]y[/", "One[/x][link=https://x]y[/")
        await pilot.press(*"[bold]MUG", "enter")  # an unknown code, sold as a one-off with markup in it
        await settle(app, pilot)
        assert_shown(app, "Unknown code [bold]MUG")
        await press_alone(app, pilot, "o")
        await settle(app, pilot)
        assert_shown(app, "One-off item ([bold]MUG)")
        await pilot.press(*"[/x] mug", "enter", *"1.00", "enter")
        await settle(app, pilot)
        assert_shown(app, "[/x] mug")
        await pilot.press("up", "ctrl+t")  # a prompt titled with a stored description
        await settle(app, pilot)
        assert_shown(app, "One[/x][link=https://x]y[/link][bold]B\\x1b]2;")
        await pilot.press("escape", "ctrl+o")  # the parked sales, with their notes
        await settle(app, pilot)
        assert isinstance(app.screen, ParkedScreen)
        assert_shown(app, "Note[/x][link=https://x]y[/link][bold]B\\x1b]2;")
        await pilot.press("escape")
        app.action_home()
        await settle(app, pilot)

        await pilot.press("f3")  # receive: the picked product, and the table of what was received
        await settle(app, pilot)
        assert isinstance(app.screen, ReceiveScreen)
        await pilot.press(*"EVIL-1", "enter")
        await settle(app, pilot)
        assert_shown(app, "EVIL-1  Tee" + SHOWN)
        await pilot.press(*"2", "enter", "enter", *"[/x]ref", "enter")
        await settle(app, pilot)
        assert_shown(app, "[/x]ref", "Tee[/x]")
        app.action_home()
        await settle(app, pilot)

        await pilot.press("f4")  # adjust
        await settle(app, pilot)
        assert isinstance(app.screen, AdjustScreen)
        await pilot.press(*"EVIL-1", "enter")
        await settle(app, pilot)
        assert_shown(app, "EVIL-1  Tee" + SHOWN)
        app.action_home()
        await settle(app, pilot)

        await pilot.press("f5")  # count: the counted lines name the product
        await settle(app, pilot)
        assert isinstance(app.screen, CountScreen)
        await pilot.press(*"EVIL-1", "enter", *"7", "enter")
        await settle(app, pilot)
        assert_shown(app, "Tee[/x][link=https://x]y[/link][bold]B")
        app.action_home()
        await settle(app, pilot)

        app.action_open("journal")  # every movement: reasons, references, staff; staff names in the filter
        await settle(app, pilot)
        assert isinstance(app.screen, JournalScreen)
        assert_shown(app, "Eve[/x]", "[/x][link=https://x]y[/link][bold]B\\x1b]2;")
        app.screen.query_one("#staff").focus()
        await pilot.press("enter")  # the staff list drops down
        await settle(app, pilot)
        assert_shown(app, "Eve" + SHOWN)
        await pilot.press("escape")
        app.action_home()
        await settle(app, pilot)

        app.action_help()
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        assert_shown(app, "Anywhere")
        await pilot.press("escape")
        await settle(app, pilot)

        app.action_choose_staff()  # the staff chooser lists the stored names
        await settle(app, pilot)
        assert isinstance(app.screen, StaffScreen)
        assert_shown(app, "Eve" + SHOWN)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.is_running


async def test_notifications_are_plain_text(shop, make_app):
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        app.notify("T-shirt [XL] [/x]\x1b[2J", title="[bold]t\x1b]0;x\x07")
        await settle(app, pilot)
        assert_shown(app, "T-shirt [XL] [/x]\\x1b", "[bold]t\\x1b]0;x")


async def test_a_paste_reaches_an_input_without_control_characters(shop, make_app):
    from textual import events

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(events.Paste("Tea\x1b]52;c;cm0gLXJmIH4=\x07 [bold]x80\r\nsecond line"))
        await settle(app, pilot)
        assert app.screen.query_one("#filter").value == "Tea]52;c;cm0gLXJmIH4= [bold]x80"
        assert_shown(app, "Tea]52;c;cm0gLXJmIH4= [bold]x80")
