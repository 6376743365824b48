import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat

from bot.phone import mask, normalize, time_zone_for


@pytest.mark.parametrize(
    "raw", ["+1 206-555-0101", "(206) 555-0101", "206.555.0101", "2065550101", "+12065550101"]
)
def test_us_formats_normalise_to_e164(raw: str) -> None:
    assert normalize(raw) == "+12065550101"


@pytest.mark.parametrize("raw", [None, "", "hello", "123", "+1 206", "default"])
def test_non_numbers_are_none(raw: str | None) -> None:
    assert normalize(raw) is None


def test_e164_north_american_numbers_come_back_as_phonenumbers_formats_them() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        area, exchange = rng.randint(200, 999), rng.randint(200, 999)
        raw = f"+1{area}{exchange}{rng.randint(0, 9999):04d}"
        parsed = phonenumbers.parse(raw, "US")
        assert phonenumbers.is_possible_number(parsed)
        assert normalize(raw) == phonenumbers.format_number(parsed, PhoneNumberFormat.E164) == raw


@pytest.mark.parametrize("raw", ["+11065550101", "+12060550101", "+120655501011", "+1206555010"])
def test_e164_shapes_outside_the_plan_still_go_through_phonenumbers(raw: str) -> None:
    parsed = phonenumbers.parse(raw, "US")
    expected = (
        phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
        if phonenumbers.is_possible_number(parsed)
        else None
    )
    assert normalize(raw) == expected


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
