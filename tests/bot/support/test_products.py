from datetime import date

from bot.support.products import not_offered_reply, product_reply, variant_reply
from tests.bot.support.build import NOW, product, variant

LA = "America/Los_Angeles"
NAVY_M = variant("M", "Navy", stock=12)
GREY_M = variant("M", "Heather Grey", stock=0, restock=date(2026, 6, 25))
GREY_XL = variant("XL", "Heather Grey", stock=3)
NAVY_XL = variant("XL", "Navy", stock=0)
HOODIE = product(NAVY_M, GREY_M, GREY_XL, NAVY_XL)


def test_one_variant_in_stock_with_its_price() -> None:
    assert product_reply(product(NAVY_M), "M", "Navy", NOW) == (
        "The Trailhead Hoodie in M / Navy is in stock, $68."
    )


def test_few_left_is_said() -> None:
    assert variant_reply(HOODIE, GREY_XL, NOW, LA) == (
        "The Trailhead Hoodie in XL / Heather Grey is in stock (only 3 left), $68."
    )


def test_sold_out_with_the_restock_date_as_the_calendar_says() -> None:
    # The restock date is a day, not a moment: it must not slip to the 24th in Seattle.
    assert product_reply(product(GREY_M), "M", "Heather Grey", NOW, LA) == (
        "The Trailhead Hoodie in M / Heather Grey is sold out right now. "
        "It should be back around Thu, Jun 25."
    )


def test_restock_tomorrow() -> None:
    soon = variant("M", "Navy", stock=0, restock=date(2026, 6, 16))
    assert variant_reply(HOODIE, soon, NOW, LA).endswith("It should be back tomorrow.")


def test_sold_out_without_a_restock_date() -> None:
    assert variant_reply(HOODIE, NAVY_XL, NOW, LA) == (
        "The Trailhead Hoodie in XL / Navy is sold out and we don't have a restock date yet."
    )


def test_overview_lists_colours_sizes_price_and_what_is_sold_out() -> None:
    assert product_reply(HOODIE, None, None, NOW) == (
        "Trailhead Hoodie ($68) comes in Navy and Heather Grey, sizes M and XL. "
        "Sold out: M / Heather Grey and XL / Navy."
    )


def test_several_variants_in_the_asked_size_get_an_overview_of_those() -> None:
    # The order system already narrowed the product to the size asked about.
    in_m = product(NAVY_M, GREY_M)
    assert product_reply(in_m, "M", None, NOW) == (
        "Trailhead Hoodie ($68) comes in Navy and Heather Grey, size M. Sold out: M / Heather Grey."
    )


def test_a_price_range_and_final_sale() -> None:
    cheap, dear = variant("S", "Oatmeal", price="45.00"), variant("L", "Oatmeal", price="55.50")
    fleece = product(cheap, dear, title="Alpine Fleece Pullover", final_sale=True)
    assert product_reply(fleece, None, None, NOW) == (
        "Alpine Fleece Pullover ($45-$55.50) comes in Oatmeal, sizes S and L. Final sale."
    )


def test_all_sold_out() -> None:
    beanie = product(variant(None, "Cream", stock=0, price="24.00"), title="Wool Beanie")
    assert product_reply(beanie, None, None, NOW) == (
        "Wool Beanie ($24) comes in Cream. It's sold out right now."
    )


def test_not_offered_names_what_was_asked_and_what_there_is() -> None:
    assert not_offered_reply(HOODIE, "XXL", None) == (
        "Sorry, the Trailhead Hoodie doesn't come in XXL. "
        "Trailhead Hoodie ($68) comes in Navy and Heather Grey, sizes M and XL. "
        "Sold out: M / Heather Grey and XL / Navy."
    )
    assert not_offered_reply(HOODIE, "S", "Red").startswith(
        "Sorry, the Trailhead Hoodie doesn't come in S / Red. "
    )
