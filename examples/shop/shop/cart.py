"""A shopping cart with quantities and coupon codes."""

from __future__ import annotations

from dataclasses import dataclass, field

from shop.pricing import apply_discount

COUPONS = {"WELCOME10": 10.0, "HALF": 50.0}


@dataclass
class Item:
    sku: str
    price: float
    quantity: int = 1


@dataclass
class Cart:
    items: dict[str, Item] = field(default_factory=dict)
    coupon: str | None = None

    def add(self, sku: str, price: float, quantity: int = 1) -> None:
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        if sku in self.items:
            self.items[sku].quantity += quantity
        else:
            self.items[sku] = Item(sku, price, quantity)

    def remove(self, sku: str, quantity: int | None = None) -> None:
        item = self.items.get(sku)
        if item is None:
            raise KeyError(sku)
        if quantity is None or quantity >= item.quantity:
            del self.items[sku]
        else:
            item.quantity -= quantity

    def apply_coupon(self, code: str) -> bool:
        code = code.strip().upper()
        if code not in COUPONS:
            return False
        self.coupon = code
        return True

    def subtotal(self) -> float:
        return round(sum(i.price * i.quantity for i in self.items.values()), 2)

    def total(self) -> float:
        subtotal = self.subtotal()
        if self.coupon:
            return apply_discount(subtotal, COUPONS[self.coupon])
        return subtotal
