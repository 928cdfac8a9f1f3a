"""Reorder points learned from demand: pure functions, no database (docs/ordering.md, "How reorder points are
learned").

Quantities are integer thousandths, as everywhere. The estimates in between (mean, variance, quantiles) are
floats — they are statistics, not money — and every figure that is stored or compared comes out as an exact
integer, rounded *up* to whole units (1000), so a reorder point never promises less cover than computed.

The input is sparse: per product, only the days on which it moved, as ``day -> (sold, net)``, where day 0 is today
(not yet over, so never a demand day), day 1 yesterday, … day ``window`` the oldest day learned from; ``sold`` is
sales net of returns that day and ``net`` the sum of every movement that day (sales, receipts, adjustments…).
From today's ``on_hand`` the stock at the end of each earlier day follows by subtracting later days' ``net``.

A day is *censored* (left out, not counted as zero demand) when the product started it with nothing on hand (at
or below zero; a delivery may have come later that day). A day it *ran out* (started with stock, ended with none)
counts, as at least the average day: its sales are a lower bound on its demand (``demand_stats``). A stock-out
that began and ended within one day (ran out at 11, delivery at 14) is not seen, as the journal keeps no hourly
stock here; deliveries mostly arrive before the shop opens, so this is rare.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

UNIT = 1000  # thousandths in one unit
ADI_CUTOFF = 1.32  # Syntetos–Boylan (2005): average interval between demands
CV2_CUTOFF = 0.49  # … and squared coefficient of variation of the demand sizes

Pattern = Literal["smooth", "erratic", "intermittent", "lumpy", "none"]
Method = Literal["auto", "normal", "intermittent"]


@dataclass(frozen=True)
class DemandStats:
    """What the window says about a product's daily demand (thousandths per day)."""

    window: int  # days looked at (yesterday and the ``window - 1`` days before it)
    censored: int  # days left out: the product had nothing to sell at the start of the day
    ran_out: int  # days counted although the product ran out during them (demand at least the average)
    days: int  # days counted: window - censored
    sold: int  # units sold (net of returns) on the counted days, thousandths
    total: int  # demand counted: ``sold``, with each ran-out day lifted to at least the average
    demand_days: int  # counted days with any demand
    mean: float  # average demand per counted day, thousandths
    variance: float  # sample variance of daily demand, thousandths²
    adi: float  # average demand interval: counted days per demand day (inf without demand)
    cv2: float  # squared coefficient of variation of the non-zero daily demands

    @property
    def pattern(self) -> Pattern:
        """Syntetos–Boylan class: smooth, erratic (sizes vary), intermittent (days apart), lumpy (both)."""
        if self.demand_days == 0:
            return "none"
        frequent = self.adi < ADI_CUTOFF
        steady = self.cv2 < CV2_CUTOFF
        return ("smooth" if steady else "erratic") if frequent else ("intermittent" if steady else "lumpy")


def demand_stats(on_hand: int, moves: Mapping[int, tuple[int, int]], window: int) -> DemandStats:
    """Demand over days 1..``window`` of a product with ``on_hand`` now, out-of-stock days censored.

    ``moves``: day → (sold net of returns, net stock change), day 0 being today; days without movements may be
    missing. A day's negative net sale (more returned than sold) counts as no demand.

    A day that *started* with nothing on hand (at or below zero) is left out. A day that started with stock and
    *ended* with none ran out during the day: what it sold is a lower bound on its demand, so it counts as the
    larger of its sales and the average of the days in stock from start to end. (Leaving such days out would
    drop exactly the busiest days, and bias every estimate low; counting their sales as they are would too.)"""
    stock = on_hand - moves.get(0, (0, 0))[1]  # stock at the end of yesterday
    if len(moves) <= (0 in moves):  # no movement in the window: the same stock every day, and no demand
        return DemandStats(window, window if stock <= 0 else 0, 0, 0 if stock <= 0 else window, 0, 0, 0, 0.0, 0.0,
                           math.inf, 0.0)
    censored = 0
    counted: list[int] = []  # demand of the days in stock all day that had any
    ran_out: list[int] = []  # sales of the days that ran out
    day = 1
    for moved_day in [*sorted(d for d in moves if 1 <= d <= window), window + 1]:
        if stock <= 0:  # days day..moved_day-1 passed without a movement, at this (empty) stock
            censored += moved_day - day
        if moved_day > window:
            break
        sold, net = moves[moved_day]
        start = stock - net
        if start <= 0:
            censored += 1
        elif stock <= 0:
            ran_out.append(max(sold, 0))
        elif sold > 0:
            counted.append(sold)
        stock = start
        day = moved_day + 1
    days = window - censored
    full = days - len(ran_out)
    sold_total = sum(counted) + sum(ran_out)
    average = sum(counted) / full if full else 0.0
    values = counted + [max(s, average) for s in ran_out]
    values = [v for v in values if v > 0]
    total = sum(values)
    square = sum(v * v for v in values)
    mean = total / days if days else 0.0
    variance = (square - total * total / days) / (days - 1) if days > 1 else 0.0
    demand_days = len(values)
    adi = days / demand_days if demand_days else math.inf
    if demand_days:
        size_mean = total / demand_days
        cv2 = max(square / demand_days - size_mean * size_mean, 0.0) / (size_mean * size_mean)
    else:
        cv2 = 0.0
    return DemandStats(window, censored, len(ran_out), days, sold_total, round(total), demand_days, mean,
                       max(variance, 0.0), adi, cv2)


@dataclass(frozen=True)
class ReorderFigures:
    """A learned reorder point and order-up-to level, with every figure behind them (thousandths)."""

    method: Literal["normal", "poisson", "negative binomial", "no demand"]
    horizon: int  # lead time + review period, days
    expected: int  # expected demand over the horizon
    safety: int  # safety stock: reorder point - expected
    reorder_point: int
    cycle: int  # expected demand over one review period
    target: int  # order-up-to level


def round_up_units(milli: float) -> int:
    """``milli`` thousandths rounded up to whole units (a tiny float error below a whole unit is not a unit)."""
    return max(0, math.ceil(milli / UNIT - 1e-9)) * UNIT


def _count_quantile(mean: float, variance: float, level: float) -> tuple[int, str]:
    """The smallest whole ``k`` with P(X ≤ k) ≥ ``level``, for a count ``X`` of ``mean`` and ``variance``:
    Poisson when the variance does not exceed the mean, else the negative binomial of those two moments."""
    if mean <= 0:
        return 0, "poisson"
    if variance <= mean * 1.0001:
        prob, step, name = math.exp(-mean), (lambda k: mean / (k + 1)), "poisson"
    else:
        p = mean / variance
        r = mean * mean / (variance - mean)
        prob, step, name = math.exp(r * math.log(p)), (lambda k: (k + r) / (k + 1) * (1 - p)), "negative binomial"
    cdf, k = prob, 0
    limit = int(mean + 50 * math.sqrt(variance) + 50)
    while cdf < level and k < limit:
        prob *= step(k)
        k += 1
        cdf += prob
    return k, name


def reorder_figures(stats: DemandStats, *, lead_days: int, review_days: int, service_level: float,
                    method: Method = "auto") -> ReorderFigures:
    """Reorder point and target for a periodic review: an order placed now arrives after ``lead_days``, and the
    next chance to order comes ``review_days`` later, so stock must cover demand over both (the horizon).

    Smooth and erratic sellers (frequent demand): the normal approximation, reorder point = mean × horizon +
    z × σ × √horizon, z the ``service_level`` quantile of the standard normal (cycle service level).
    Intermittent and lumpy sellers: demand over the horizon as a count of units with the window's mean and
    variance (Poisson, or negative binomial when over-dispersed) and its ``service_level`` quantile.
    Target (order-up-to) = reorder point + expected demand over one review period, at least one unit above it.
    A product that sells at all keeps a reorder point of at least one unit, so it is reordered before none is left
    in position."""
    horizon = max(1, lead_days + review_days)
    expected = stats.mean * horizon
    cycle = stats.mean * max(1, review_days)
    if stats.demand_days == 0 or stats.mean <= 0:
        return ReorderFigures("no demand", horizon, 0, 0, 0, 0, 0)
    use = method if method != "auto" else ("normal" if stats.pattern in ("smooth", "erratic") else "intermittent")
    if use == "normal":
        z = NormalDist().inv_cdf(service_level)
        point = round_up_units(expected + z * math.sqrt(stats.variance * horizon))
        name = "normal"
    else:
        units, name = _count_quantile(expected / UNIT, stats.variance * horizon / (UNIT * UNIT), service_level)
        point = units * UNIT
    point = max(point, UNIT)
    target = max(point + round_up_units(cycle), point + UNIT)
    expected_int = round(expected)
    return ReorderFigures(name, horizon, expected_int, point - expected_int, point, round(cycle), target)


def learn_product(on_hand: int, moves: Mapping[int, tuple[int, int]], *, window: int, lead_days: int,
                  review_days: int, service_level: float, method: Method = "auto",
                  min_days: int = 14) -> tuple[DemandStats, ReorderFigures | None]:
    """One product's demand over the window and, given at least ``min_days`` in-stock days and a sale on one of
    them, its figures; else None: too little to learn from, the old figures stay. (No sale in the window says
    little about a slow seller, and a product that does not sell is not reordered anyway; zeroing its reorder
    point would stop it being reordered when it sells again.) What ``reorder.recompute`` runs for every product,
    and the bench's simulated shop for its learned policy."""
    stats = demand_stats(on_hand, moves, window)
    if stats.days < min_days or stats.demand_days == 0:
        return stats, None
    return stats, reorder_figures(stats, lead_days=lead_days, review_days=review_days, service_level=service_level,
                                  method=method)


@functools.lru_cache(maxsize=256)
def review_period(review_days: int, order_days: str) -> int:
    """Days between two orders to a supplier: the longest gap between its order weekdays ("mon,thu" → 4), else
    its review period."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    days = sorted({names.index(d.strip()[:3].lower()) for d in order_days.split(",")
                   if d.strip()[:3].lower() in names})
    if not days:
        return max(1, review_days)
    gaps = [(b - a) % 7 or 7 for a, b in zip(days, days[1:] + days[:1], strict=True)]
    return max(gaps)


def order_quantity(position: int, reorder_point: int, target: int, pack: int) -> int:
    """What to order for an inventory ``position`` (on hand + on order): nothing above the reorder point; else up to
    the target, rounded up to whole packs (``pack`` thousandths; 0 or less: no rounding)."""
    if position > reorder_point:
        return 0
    need = max(target - position, 0)
    if pack <= 0:
        return need
    return -(-need // pack) * pack


def manual_order_quantity(position: int, reorder_point: int, reorder_qty: int) -> int:
    """A manual reorder point's order: nothing above the reorder point; else whole multiples of its typed reorder
    quantity that lift the position above the reorder point; without one, enough to reach twice the reorder point
    (the rule before learning)."""
    if position > reorder_point:
        return 0
    shortfall = reorder_point - position
    if reorder_qty > 0:
        packs = max(1, -(-(shortfall + 1) // reorder_qty)) if shortfall >= 0 else 1
        return packs * reorder_qty
    return max(2 * reorder_point - position, 0)


def top_up(lines: list[dict], min_order: int) -> list[dict]:
    """Lift one supplier's order to its ``min_order`` (minor units at pack cost) by adding whole packs.

    Each line is a dict with ``quantity``, ``pack`` (thousandths), ``pack_cost`` (minor units), ``position`` and
    ``target``; a pack goes each time to the line that will be furthest below its target relative to that target
    (the one that would run out first), so the extra money goes where it buys the most cover. Lines whose packs
    cost nothing cannot help and get none. Adds ``topped_up`` (thousandths added) to each line; returns ``lines``."""
    def value(line: dict) -> int:
        return (line["quantity"] // line["pack"]) * line["pack_cost"] if line["pack"] > 0 else 0

    for line in lines:
        line["topped_up"] = 0
    total = sum(value(line) for line in lines)
    able = [line for line in lines if line["pack"] > 0 and line["pack_cost"] > 0]
    while total < min_order and able:
        line = min(able, key=lambda ln: ((ln["position"] + ln["quantity"]) / max(ln["target"], UNIT),
                                         -ln["pack_cost"]))
        line["quantity"] += line["pack"]
        line["topped_up"] += line["pack"]
        total += line["pack_cost"]
    return lines
