import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopkeeper.errors import InvalidInput
from shopkeeper.money import (
    extend,
    format_money,
    format_qty,
    format_percent,
    format_rate,
    json_qty,
    parse_money,
    parse_qty,
    parse_percent,
    parse_rate,
    round_div,
    round_div_all,
    running_shares,
    round_to_step,
)


@pytest.mark.parametrize("text, minor", [("2.50", 250), ("2,50", 250), ("0", 0), ("3", 300), (" 1.5 ", 150),
                                         ("-1.25", -125), (".5", 50)])
def test_parse_money_is_exact(text, minor):
    assert parse_money(text) == minor


@pytest.mark.parametrize("text", ["", "abc", "1.234", "1,2,3", "1.2.3", "1e3", "nan", "1.5.", "€2"])
def test_parse_money_refuses_bad_text_saying_what(text):
    with pytest.raises(InvalidInput, match="price"):
        parse_money(text, what="price")


def test_quantities_are_thousandths():
    assert parse_qty("0.250") == 250
    assert parse_qty("3") == 3000
    with pytest.raises(InvalidInput, match="more than 3 decimal places"):
        parse_qty("0.0001")
    assert format_qty(250) == "0.25"
    assert format_qty(3000) == "3"
    assert format_qty(-1500) == "-1.5"
    assert json_qty(3000) == 3 and json_qty(250) == Decimal("0.250")


def test_tax_rates_are_thousandths_of_a_percent():
    assert parse_rate("20") == 20_000 and parse_rate("5,5") == 5_500 and parse_rate("8.875") == 8_875
    assert format_rate(5_500) == "5.5" and format_rate(20_000) == "20" and format_rate(8_875) == "8.875"
    with pytest.raises(InvalidInput):
        parse_rate("101")
    with pytest.raises(InvalidInput, match="more than 3 decimal places"):
        parse_rate("8.8755")


def test_discount_percentages_stay_basis_points():
    assert parse_percent("12.5") == 1250 and format_percent(1250) == "12.5"
    with pytest.raises(InvalidInput, match="more than 2 decimal places"):
        parse_percent("8.875")


@pytest.mark.parametrize(("numerator", "denominator", "even", "up"), [
    (5, 2, 2, 3), (7, 2, 4, 4), (-5, 2, -2, -3), (-7, 2, -4, -4), (4, 3, 1, 1), (-4, 3, -1, -1)])
def test_round_div_half_even_and_half_up(numerator, denominator, even, up):
    assert round_div(numerator, denominator) == even
    assert round_div(numerator, denominator, "half-up") == up


def test_round_to_step_is_cash_rounding():
    assert [round_to_step(v, 5) for v in (997, 998, 1002, 1003, 0)] == [995, 1000, 1000, 1005, 0]
    assert [round_to_step(v, 100) for v in (1049, 1050, 1051)] == [1000, 1100, 1100]
    assert round_to_step(1234, 0) == 1234


def test_format_money_respects_currency_decimals():
    assert format_money(250) == "2.50"
    assert format_money(250, 0) == "250"
    assert format_money(-5, 2) == "-0.05"


@given(st.integers(-10**40, 10**40), st.integers(-10**20, 10**20).filter(bool))
def test_round_div_is_half_even_and_exact(n, d):
    exact = Fraction(n, d)
    expected = round(exact)  # Fraction rounds half to even, exactly, at any size
    assert round_div(n, d) == expected


@given(st.lists(st.integers(-10**30, 10**30)), st.integers(-10**15, 10**15).filter(bool))
def test_round_div_all_rounds_each_as_round_div_does(numerators, d):
    assert round_div_all(numerators, d) == [round_div(n, d) for n in numerators]


@given(st.lists(st.integers(0, 10**12)), st.integers(0, 10**6))
def test_running_shares_are_each_running_totals_share_rounded_half_even(parts, extra):
    running = list(itertools.accumulate(parts))
    whole = (running[-1] if running else 0) + extra or 1
    assert running_shares(running, whole) == [round_div(r * 10_000, whole) for r in running]


def test_running_shares_tie_to_even():
    # 1/20,000 of the whole: half a basis point, to 0; 3/20,000: one and a half, to 2; 5/20,000: 2.5, to 2
    assert running_shares([1, 3, 5, 20_000], 20_000) == [0, 2, 2, 10_000]


def test_round_div_all_ties_go_to_even():
    assert round_div_all([-3, -1, 1, 3, 5], 2) == [-2, 0, 0, 2, 2]
    assert round_div_all([5, -5, 7], -2) == [-2, 2, -4]
    with pytest.raises(ZeroDivisionError):
        round_div_all([1], 0)


def test_round_div_ties_go_to_even():
    assert [round_div(n, 2) for n in (-3, -1, 1, 3, 5)] == [-2, 0, 0, 2, 2]
    assert round_div(5, -2) == -2
    with pytest.raises(ZeroDivisionError):
        round_div(1, 0)


def test_extend_rounds_weighed_goods_half_even():
    assert extend(250, 1490) == 372  # 0.250 kg at 14.90 = 3.725 → 3.72
    assert extend(3000, 129) == 387


@given(st.integers(-10**9, 10**9))
def test_money_round_trips_through_text(minor):
    assert parse_money(format_money(minor)) == minor


def _general(parse, text, **kw):
    """What ``parse`` gives for ``text`` by the general reading (``Decimal``), or the reason it refuses."""
    from shopkeeper import money

    plain, money._plain = money._plain, lambda *a: None
    try:
        return parse(text, **kw)
    except InvalidInput as exc:
        return exc.reason
    finally:
        money._plain = plain


def _read(parse, text, **kw):
    try:
        return parse(text, **kw)
    except InvalidInput as exc:
        return exc.reason


@given(st.from_regex(r"\A[0-9]{0,17}(\.[0-9]{0,5})?\Z") | st.text(alphabet="0123456789.,+- ", max_size=12))
def test_plain_numbers_read_without_decimal_as_with_it(text):
    for parse, kw in ((parse_money, {"decimals": 2}), (parse_money, {"decimals": 0}), (parse_qty, {}),
                      (parse_rate, {})):
        assert _read(parse, text, **kw) == _general(parse, text, **kw), (parse, text)
