"""Phone numbers: E.164 normalisation, masking for logs, and a time zone guess."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezone

DEFAULT_REGION = "US"
# A North American number already in E.164, as Twilio sends it: nothing to parse.
_NANP_E164 = re.compile(r"\+1[2-9]\d{2}[2-9]\d{6}")


def normalize(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164 (+12065550101), or None when it is not a possible phone number."""
    if not raw:
        return None
    if _NANP_E164.fullmatch(raw):
        return raw
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(phone: str | None) -> str:
    """A number safe to log: country code and last four digits (+1******0101)."""
    if not phone:
        return "-"
    if len(phone) <= 6:
        return "*" * len(phone)
    head = 2 if phone.startswith("+") else 0
    return phone[:head] + "*" * (len(phone) - head - 4) + phone[-4:]


def time_zone_for(phone: str) -> str | None:
    """The IANA zone of the number's area code when there is exactly one, else None."""
    try:
        number = phonenumbers.parse(phone, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    zones = [z for z in phone_timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
    return zones[0] if len(zones) == 1 else None


def place_for(phone: str) -> str:
    """Where the number is registered, in English ("Florida", "Miami, FL"), or ""."""
    try:
        number = phonenumbers.parse(phone, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return ""
    return geocoder.description_for_number(number, "en")
