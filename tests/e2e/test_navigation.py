"""Navigation in the support articles' words, in a real browser: Orders and Customers from the header, paged."""

import pytest
from playwright.sync_api import Page, expect

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _first_cells(page: Page, table: str) -> list[str]:
    return page.locator(f"#{table} tbody tr td:first-child").all_inner_texts()


def test_orders_and_customers_open_from_the_header_and_page(demo, live_server, page: Page, screenshot_dir):
    log_in(page, live_server, "support@demo.example", "demo-support")
    main_nav = page.get_by_role("navigation", name="Main")

    main_nav.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    expect(main_nav.get_by_role("link", name="Orders")).to_have_attribute("aria-current", "page")
    first = _first_cells(page, "order-table")
    assert len(first) == 50
    page.get_by_role("navigation", name="Order list pages").get_by_role("link", name="Next →").click()
    page.wait_for_url("**/orders/?*after=*")
    expect(page.get_by_role("link", name="← Previous")).to_be_visible()
    second = _first_cells(page, "order-table")
    assert second and not set(page.locator("#order-table tbody code").all_inner_texts()) & set(first)
    page.screenshot(path=str(screenshot_dir / "orders-list.png"), full_page=True)

    main_nav.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    names = _first_cells(page, "customer-table")
    assert names
    page.get_by_role("navigation", name="Customer list pages").get_by_role("link", name="Next →").click()
    page.wait_for_url("**/customers/?*after=*")
    expect(page.get_by_role("link", name="← Previous")).to_be_visible()
    assert not set(_first_cells(page, "customer-table")) & set(names)

    # The search box of the list: accounts only.
    page.get_by_role("searchbox", name="Search customers").fill(names[0])
    expect(page.locator("#customer-table tbody tr").first).to_contain_text(names[0])


def test_the_header_at_phone_width_keeps_orders_customers_and_region(demo, live_server, page: Page, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "support@demo.example", "demo-support")
    main_nav = page.get_by_role("navigation", name="Main")
    for name in ("My events", "Orders", "Customers"):
        link = main_nav.get_by_role("link", name=name)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, name
    main_nav.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"
    page.screenshot(path=str(screenshot_dir / "orders-list-390.png"), full_page=False)
