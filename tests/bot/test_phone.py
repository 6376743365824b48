import pytest

from bot.phone import mask, normalize, time_zone_for


@pytest.mark.parametrize(
    "raw", ["+1 206-555-0101", "(206) 555-0101", "206.555.0101", "2065550101", "+12065550101"]
)
def test_us_formats_normalise_to_e164(raw: str) -> None:
    assert normalize(raw) == "+12065550101"


@pytest.mark.parametrize("raw", [None, "", "hello", "123", "+1 206", "default"])
def test_non_numbers_are_none(raw: str | None) -> None:
    assert normalize(raw) is None


def test_international_numbers_keep_their_country() -> None:
    assert normalize("+44 20 7946 0958") == "+442079460958"


def test_mask_keeps_only_country_code_and_last_four() -> None:
    assert mask("+12065550101") == "+1******0101"
    assert mask(None) == "-"
    assert "555" not in mask("+12065550101")


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("+12065550101", "America/Los_Angeles"),
        ("+13055550102", "America/New_York"),
        ("+13125550104", "America/Chicago"),
    ],
)
def test_time_zone_from_area_code(phone: str, zone: str) -> None:
    assert time_zone_for(phone) == zone
