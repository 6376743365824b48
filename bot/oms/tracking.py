"""Carrier tracking links, for stores that record a tracking number but no URL."""

from __future__ import annotations

import re
from urllib.parse import quote

# Carrier -> tracking page, with {number} standing for the URL-quoted tracking number.
TRACKING_PAGES = {
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "DHL": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}",
}

# Other names stores give the same carriers, compared without case, spaces or punctuation.
_ALIASES = {
    "ups": "UPS",
    "unitedparcelservice": "UPS",
    "usps": "USPS",
    "unitedstatespostalservice": "USPS",
    "fedex": "FedEx",
    "federalexpress": "FedEx",
    "dhl": "DHL",
    "dhlexpress": "DHL",
    "dhlecommerce": "DHL",
}


def carrier_name(carrier: str | None) -> str | None:
    """The carrier's usual name ("fedex" -> "FedEx"), so texts and links agree; None if unknown."""
    if not carrier:
        return None
    return _ALIASES.get(re.sub(r"[^a-z]", "", carrier.lower()))


def tracking_url(carrier: str | None, number: str | None) -> str | None:
    """The carrier's tracking page for this number, or None for an unknown carrier or no number."""
    name = carrier_name(carrier)
    cleaned = re.sub(r"\s+", "", number or "")
    if name is None or not cleaned:
        return None
    return TRACKING_PAGES[name].format(number=quote(cleaned, safe=""))
