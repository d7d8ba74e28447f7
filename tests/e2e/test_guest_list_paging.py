"""The guest list of the demo's biggest event, paged and sorted in a real browser: every order is reached
exactly once (a "??after=…" link once showed page 1 again, and 161 of 211 orders were out of reach)."""

import re

import pytest
from django.core.management import call_command
from django.db.models import Count
from playwright.sync_api import Page, expect

from demo.specs import DEMO_ORG_SLUG
from orders.models import Order
from organiser_portal.models import Event

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PAGE_SIZE = 50  # guests.selectors.event_guest_orders


@pytest.fixture
def biggest_event(transactional_db) -> Event:
    call_command("seed_demo", "--allow-demo-logins", verbosity=0)
    event = (
        Event.objects.filter(organisation__slug=DEMO_ORG_SLUG).annotate(n=Count("orders")).order_by("-n", "pk").first()
    )
    assert event is not None and event.n > 3 * PAGE_SIZE, "the demo's biggest event spans several pages"
    return event


def open_guest_list(page: Page, event: Event) -> None:
    page.get_by_role("link", name=event.name, exact=True).click()
    expect(page.get_by_role("heading", name=f"Guests · {event.name}")).to_be_visible()


def codes_shown(page: Page) -> list[str]:
    return page.locator("#guest-table tbody tr td:nth-child(3) code").all_inner_texts()


def turn(page: Page, link: str) -> list[str]:
    """Click "Next →" or "← Previous" and wait for the table htmx swaps in; the new page's codes."""
    before = codes_shown(page)
    page.get_by_role("navigation", name="Guest list pages").get_by_role("link", name=link).click()
    expect(page.locator("#guest-table tbody tr td:nth-child(3) code").first).not_to_have_text(before[0])
    assert "??" not in page.url
    return codes_shown(page)


def walk_to_the_end(page: Page) -> list[list[str]]:
    pages = [codes_shown(page)]
    next_link = page.get_by_role("navigation", name="Guest list pages").get_by_role("link", name="Next →")
    while next_link.count():
        pages.append(turn(page, "Next →"))
        assert len(pages) <= 20, "the pages never end"
    return pages


def test_clicking_next_reaches_every_order_exactly_once(biggest_event, live_server, page: Page, screenshot_dir):
    log_in(page, live_server, "viewer@demo.example", "demo-viewer")
    open_guest_list(page, biggest_event)
    expected = list(
        Order.objects.filter(event=biggest_event).order_by("-created_at", "-id").values_list("code", flat=True)
    )
    expect(page.locator("#guest-table")).to_contain_text(f"{len(expected)} orders")

    pages = walk_to_the_end(page)

    seen = [code for codes in pages for code in codes]
    assert len(seen) == len(set(seen)), "an order appeared twice"
    assert seen == expected, "every order once, newest first, down to the oldest"
    assert [len(codes) for codes in pages[:-1]] == [PAGE_SIZE] * (len(pages) - 1)
    assert re.search(r"[?&]after=", page.url) and "??" not in page.url  # the URL names the page: reload, share
    page.reload()
    assert codes_shown(page) == pages[-1]
    page.screenshot(path=str(screenshot_dir / "guest-list-last-page.png"), full_page=True)


def test_sorting_oldest_first_then_paging_forward_and_back(biggest_event, live_server, page: Page):
    log_in(page, live_server, "viewer@demo.example", "demo-viewer")
    open_guest_list(page, biggest_event)
    oldest_first = list(
        Order.objects.filter(event=biggest_event).order_by("created_at", "id").values_list("code", flat=True)
    )

    page.get_by_role("link", name="Created ↓").click()
    expect(page.get_by_role("link", name="Created ↑")).to_be_visible()
    assert "sort=oldest" in page.url and "??" not in page.url
    assert page.get_by_label("Sort").input_value() == "oldest"  # the filter form agrees with the table

    pages = walk_to_the_end(page)
    assert [code for codes in pages for code in codes] == oldest_first
    expect(page.get_by_role("link", name="Created ↑")).to_be_visible()  # still sorted on the last page

    for back in reversed(pages[:-1]):  # ← Previous, page by page, to the first
        assert turn(page, "← Previous") == back
    nav = page.get_by_role("navigation", name="Guest list pages")
    expect(nav.get_by_role("link", name="← Previous")).to_have_count(0)

    # Sorting again from a later page starts at the first page of the other sort.
    turn(page, "Next →")
    page.get_by_role("link", name="Created ↑").click()
    expect(page.get_by_role("link", name="Created ↓")).to_be_visible()
    assert "after=" not in page.url and "before=" not in page.url
    assert codes_shown(page) == oldest_first[::-1][:PAGE_SIZE]
