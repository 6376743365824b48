import pytest

from bot.oms.tracking import carrier_name, tracking_url


@pytest.mark.parametrize(
    ("carrier", "number", "url"),
    [
        ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        (
            "USPS",
            "9400111899223197428490",
            "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223197428490",
        ),
        ("FedEx", "794612345678", "https://www.fedex.com/fedextrack/?trknbr=794612345678"),
        (
            "DHL",
            "4829301746",
            "https://www.dhl.com/global-en/home/tracking.html?tracking-id=4829301746",
        ),
    ],
)
def test_each_known_carrier_links_to_its_tracking_page(carrier: str, number: str, url: str) -> None:
    assert tracking_url(carrier, number) == url


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("ups", "UPS"),
        ("United Parcel Service", "UPS"),
        ("U.S.P.S.", "USPS"),
        ("fedex", "FedEx"),
        ("Federal Express", "FedEx"),
        ("DHL Express", "DHL"),
        ("DHL eCommerce", "DHL"),
        ("Canada Post", None),
        ("", None),
        (None, None),
    ],
)
def test_carrier_names_are_recognised_however_stores_spell_them(
    given: str | None, name: str | None
) -> None:
    assert carrier_name(given) == name


def test_spaces_in_the_number_are_dropped_and_the_rest_is_quoted() -> None:
    assert tracking_url("usps", " 9400 1118 9922 ") == (
        "https://tools.usps.com/go/TrackConfirmAction?tLabels=940011189922"
    )
    assert tracking_url("UPS", "1Z&x=1") == "https://www.ups.com/track?tracknum=1Z%26x%3D1"


@pytest.mark.parametrize(
    ("carrier", "number"),
    [("Canada Post", "123"), (None, "123"), ("UPS", None), ("UPS", "  ")],
)
def test_no_link_without_a_known_carrier_and_a_number(
    carrier: str | None, number: str | None
) -> None:
    assert tracking_url(carrier, number) is None
