"""Where a recipient is: the time zone of a US state or Canadian province, for quiet hours."""

from __future__ import annotations

# The zone most of each state's or province's people live in. States that span two zones
# (e.g. TX, FL, IN, KY, TN) take the larger one; a text one hour early or late within the
# state's own quiet-hour window is the best an address without a ZIP lookup can do.
_ZONES = {
    "America/New_York": ("CT DC DE FL GA IN KY MA MD ME MI NC NH NJ NY OH PA RI SC VA VT WV ON QC"),
    "America/Chicago": "AL AR IA IL KS LA MN MO MS ND NE OK SD TN TX WI MB",
    "America/Denver": "CO MT NM UT WY AB",
    "America/Boise": "ID",
    "America/Phoenix": "AZ",
    "America/Los_Angeles": "CA NV OR WA BC",
    "America/Anchorage": "AK",
    "Pacific/Honolulu": "HI",
    "America/Puerto_Rico": "PR VI",
    "America/Regina": "SK",
    "America/Halifax": "NS NB PE",
    "America/St_Johns": "NL",
    "America/Whitehorse": "YT",
    "America/Yellowknife": "NT",
    "America/Iqaluit": "NU",
}
STATE_ZONES: dict[str, str] = {
    code: zone_name for zone_name, codes in _ZONES.items() for code in codes.split()
}


def region_code(province_code: str | None) -> str | None:
    """'wa', 'US-WA', ' WA ' -> 'WA'; None when it is not a two-letter code."""
    if not province_code:
        return None
    code = province_code.strip().upper()
    code = code.split("-", 1)[1] if "-" in code else code
    return code if len(code) == 2 and code.isalpha() else None


def zone_for_region(province_code: str | None) -> str | None:
    """The IANA time zone for a US state or Canadian province code, if known."""
    code = region_code(province_code)
    return STATE_ZONES.get(code) if code else None
