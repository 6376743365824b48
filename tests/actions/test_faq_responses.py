"""The policy answers (utter_faq/<topic> in domain.yml) agree with the store's own policies.

The ResponseSelector answers policy questions with these fixed texts, so nothing at run time
reads the store: this test is what keeps them true to data/demo/policies.yml.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.oms.base import StorePolicies
from bot.oms.demo import DemoStore

DAYS = r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b"
TIMES = r"\b\d{1,2}(?::\d\d)?\s?[ap]m\b"
ZONES = r"\b(?:Eastern|Central|Mountain|Pacific|ET|CT|MT|PT)\b"
POLICY_TOPICS = (
    "return_policy",
    "final_sale",
    "exchanges",
    "shipping_times",
    "shipping_countries",
    "payment_methods",
    "support_hours",
)


def answers(domain: dict, topic: str) -> list[str]:
    """Every variant of the topic's response."""
    return [variant["text"] for variant in domain["responses"][f"utter_faq/{topic}"]]


def listed(text: str, lead: str) -> set[str]:
    """The items of "We accept A, B and C." after `lead`."""
    match = re.search(rf"{lead} (?:the )?([^.]+)\.", text)
    assert match, f"expected {lead!r} and a list in {text!r}"
    return {item.strip().removeprefix("the ") for item in re.split(r",|\band\b", match[1])}


def window_problems(domain: dict, policies: StorePolicies) -> list[str]:
    problems = []
    for topic in ("return_policy", "exchanges"):
        for text in answers(domain, topic):
            days = {int(n) for n in re.findall(r"\b(\d+) days\b", text)}
            if days != {policies.return_window_days}:
                problems.append(f"{topic} says {sorted(days)} days: {text!r}")
    return problems


def country_problems(domain: dict, policies: StorePolicies) -> list[str]:
    wanted = set(policies.shipping_countries)
    return [
        f"shipping_countries lists {sorted(said)}, the store {sorted(wanted)}"
        for said in (listed(t, "We ship to") for t in answers(domain, "shipping_countries"))
        if said != wanted
    ]


def payment_problems(domain: dict, policies: StorePolicies) -> list[str]:
    wanted = set(policies.payment_methods)
    return [
        f"payment_methods lists {sorted(said)}, the store {sorted(wanted)}"
        for said in (listed(t, "We accept") for t in answers(domain, "payment_methods"))
        if said != wanted
    ]


def hours(text: str) -> set[str]:
    return {
        m.replace(" ", "") for pattern in (DAYS, TIMES, ZONES) for m in re.findall(pattern, text)
    }


def hours_problems(domain: dict, policies: StorePolicies) -> list[str]:
    wanted = hours(policies.support_hours)
    return [
        f"support_hours says {sorted(hours(text))}, the store {sorted(wanted)}"
        for text in answers(domain, "support_hours")
        if not wanted or hours(text) != wanted
    ]


CHECKS = (window_problems, country_problems, payment_problems, hours_problems)


@pytest.fixture
def policies(store: DemoStore) -> StorePolicies:
    return store.policies()


def test_the_demo_policies_are_the_ones_in_data_demo(policies: StorePolicies) -> None:
    assert policies.return_window_days == 30
    assert policies.shipping_countries == ("United States", "Canada")
    assert len(policies.payment_methods) == 8


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_the_answers_agree_with_the_store(domain, policies: StorePolicies, check) -> None:
    assert check(domain, policies) == []


@pytest.mark.parametrize(
    ("check", "change"),
    [
        (window_problems, {"return_window_days": 14}),
        (country_problems, {"shipping_countries": ("United States",)}),
        (country_problems, {"shipping_countries": ("United States", "Canada", "Mexico")}),
        (payment_problems, {"payment_methods": ("Visa", "Mastercard")}),
        (hours_problems, {"support_hours": "Our team answers texts Monday to Friday, 8am to 6pm."}),
        (hours_problems, {"support_hours": "Every day, 9am to 6pm Eastern."}),
    ],
)
def test_each_check_notices_a_store_that_says_otherwise(
    domain, policies: StorePolicies, check, change: dict
) -> None:
    assert check(domain, replace(policies, **change))


def test_every_payment_method_is_named(domain, policies: StorePolicies) -> None:
    (text,) = answers(domain, "payment_methods")
    for method in policies.payment_methods:
        assert method in text


def test_the_shipping_times_are_the_stores(domain, policies: StorePolicies) -> None:
    ranges = set(re.findall(r"\d+-\d+", policies.shipping_times))
    for text in answers(domain, "shipping_times"):
        assert set(re.findall(r"\d+-\d+", text)) <= ranges, text


def test_the_final_sale_answer_is_the_stores_first_sentence(domain, policies) -> None:
    first = re.split(r"(?<=\.) ", policies.final_sale)[0]
    assert answers(domain, "final_sale") == [first]


def test_every_policy_has_an_answer(domain) -> None:
    topics = {r.removeprefix("utter_faq/") for r in domain["responses"] if "/" in r}
    assert set(POLICY_TOPICS) <= topics
