"""The books (``services/books.py``) written for beancount, hledger, ledger, or as a CSV general journal.

Pure text functions: the same ``Books`` give the same bytes. Amounts carry the shop's decimals and currency.
No time of writing appears anywhere, so a period exported again is byte-identical.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from shopkeeper import times
from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_money
from shopkeeper.services.books import Books, Transaction

FORMATS = ("beancount", "hledger", "ledger", "csv")
CSV_COLUMNS = ("date", "reference", "account", "debit", "credit", "description")


_COMMODITY = re.compile(r"^[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]$")
"""A currency beancount takes as a commodity (the strictest of the three): ``EUR``, ``CHF``, ``USD``."""


def write(books: Books, fmt: str, *, currency: str, decimals: int) -> str:
    """The books as text in ``fmt``. A currency the tools would not read (``€``) is refused before any output."""
    if fmt != "csv" and not _COMMODITY.match(currency):
        raise InvalidInput(f"shop.currency: {currency!r} is not a currency code beancount, hledger and ledger read; "
                           "use an ISO 4217 code such as EUR (the CSV format takes any)", field="currency",
                           value=currency)
    if fmt == "beancount":
        return beancount(books, currency, decimals)
    if fmt in ("hledger", "ledger"):
        return journal(books, currency, decimals, ledger=fmt == "ledger")
    if fmt == "csv":
        return general_journal(books, currency, decimals)
    raise ValueError(f"unknown format {fmt!r}")  # the CLI offers FORMATS only


def _one_line(text: str) -> str:
    """Text for a narration or comment: one line, no comment mark, no double space (a field separator)."""
    return " ".join(text.replace(";", ",").split())


def _header(books: Books, currency: str) -> list[str]:
    lines = [f"; shopkeeper books from {books.start} to {books.end} (local days, {times.zone_name()}), in {currency}",
             "; one transaction per day (sales, payments, stock) and per Z report (the drawer's cash); "
             "see docs/books.md"]
    if books.chain_head:
        lines.append(f"; chain head at the end of the period: {books.chain_head}")
    return lines


def _width(books: Books) -> int:
    return max((len(p.account) for t in books.transactions for p in t.postings), default=20) + 2


def _amount(minor: int, decimals: int, width: int = 14) -> str:
    return format_money(minor, decimals).rjust(width)


def _bean_string(text: str) -> str:
    return '"' + _one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def beancount(books: Books, currency: str, decimals: int) -> str:
    out = _header(books, currency)
    out += [f'option "operating_currency" "{currency}"', "", f"{books.start} commodity {currency}", ""]
    accounts = books.accounts()
    assert_inventory = books.complete and bool(books.transactions)
    inventory = books.inventory_account
    if assert_inventory and inventory not in accounts:
        accounts = sorted([*accounts, inventory])
    out += [f"{books.start} open {account} {currency}" for account in accounts]
    width = _width(books)
    for t in books.transactions:
        out += ["", f"{t.date} * {_bean_string(t.narration)}", f"  reference: {_bean_string(t.reference)}"]
        for p in t.postings:
            memo = f" ; {_one_line(p.memo)}" if p.memo else ""
            out.append(f"  {p.account.ljust(width)}{_amount(p.amount, decimals)} {currency}{memo}")
    if assert_inventory:
        out += ["", f"; the inventory equals the stock valuation at moving-average cost at the end of {books.end}",
                f"{books.end + dt.timedelta(days=1)} balance {inventory} "
                f"{format_money(books.closing_inventory, decimals)} {currency}"]
    return "\n".join(out) + "\n"


def journal(books: Books, currency: str, decimals: int, *, ledger: bool) -> str:
    """The journal format hledger and ledger share; they differ only in how a commodity is declared."""
    out = _header(books, currency)
    sample = format_money(1000 * 10 ** decimals, decimals)
    if ledger:
        out += [f"commodity {currency}", f"    format {sample} {currency}"]
    else:  # hledger wants a decimal mark even with no decimals ("1000."), so it never reads "1,000" as 1
        out.append(f"commodity {sample}{'' if decimals else '.'} {currency}")
    out.append("")
    out += [f"account {account}" for account in books.accounts()]
    width = _width(books)
    for t in books.transactions:
        out += ["", f"{t.date} * ({_one_line(t.reference).replace(')', '')}) {_one_line(t.narration)}"]
        out += _postings(t, width, currency, decimals)
    return "\n".join(out) + "\n"


def _postings(t: Transaction, width: int, currency: str, decimals: int) -> list[str]:
    lines = []
    for p in t.postings:
        memo = f"  ; {_one_line(p.memo)}" if p.memo else ""
        lines.append(f"    {p.account.ljust(width)}{_amount(p.amount, decimals)} {currency}{memo}")
    return lines


def general_journal(books: Books, currency: str, decimals: int) -> str:
    """date, reference, account, debit, credit, description: one row per posting, amounts without the currency."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in books.transactions:
        for p in t.postings:
            debit = format_money(p.amount, decimals) if p.amount > 0 else ""
            credit = format_money(-p.amount, decimals) if p.amount < 0 else ""
            description = f"{t.narration} - {p.memo}" if p.memo else t.narration
            writer.writerow((t.date.isoformat(), t.reference, p.account, debit, credit, _one_line(description)))
    return buffer.getvalue()
