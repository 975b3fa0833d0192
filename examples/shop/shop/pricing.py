"""Pricing rules: discounts, shipping and tax."""

from __future__ import annotations

FREE_SHIPPING_OVER = 50.0
TAX_RATES = {"food": 0.07, "books": 0.0, "general": 0.19}


def apply_discount(price: float, percent: float) -> float:
    """Return ``price`` reduced by ``percent`` (0-100), rounded to cents."""
    if price < 0:
        raise ValueError("price must not be negative")
    if not 0 <= percent <= 100:
        raise ValueError("percent must be between 0 and 100")
    return round(price * (100 - percent) / 100, 2)


def shipping_cost(subtotal: float, weight_kg: float, express: bool = False) -> float:
    """Shipping for an order: free over the threshold unless express, else by weight."""
    if weight_kg <= 0:
        raise ValueError("weight must be positive")
    if subtotal >= FREE_SHIPPING_OVER and not express:
        return 0.0
    cost = 4.5 if weight_kg <= 2 else 4.5 + (weight_kg - 2) * 1.25
    if express:
        cost *= 2
    return round(cost, 2)


def tax(amount: float, category: str = "general") -> float:
    """Tax owed on ``amount`` for a product category."""
    try:
        rate = TAX_RATES[category]
    except KeyError:
        raise ValueError(f"unknown category: {category}") from None
    return round(amount * rate, 2)
