from shop.cart import Cart


def test_add_and_subtotal():
    cart = Cart()
    cart.add("apple", 0.5, 4)
    cart.add("pear", 1.25)
    assert cart.subtotal() == 3.25


def test_total_without_coupon():
    cart = Cart()
    cart.add("book", 12.0)
    assert cart.total() == 12.0
