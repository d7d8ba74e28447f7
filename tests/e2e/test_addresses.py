"""An internationalised address typed in a real browser: nothing in the page refuses or rewrites it, an
invisible character pasted with it is shown removed, and the saved contact reads as it was typed."""

import pytest
from playwright.sync_api import Page, expect

from demo.specs import ANNA_CODE, DEMO_ORG_SLUG
from orders.models import Order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_agent_saves_an_internationalised_address_pasted_with_an_invisible_character(demo, live_server, page: Page):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("support@demo.example")
    page.get_by_label("Password").fill("demo-support")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My events")).to_be_visible()

    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/contact/")
    field = page.locator("#id_contact_email")
    field.fill(" Müller\u200b@BÜCHER.de")
    page.get_by_role("button", name="Save contact").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("invisible character in it (zero-width space)")
    expect(field).to_have_value("Müller@bücher.de")
    assert Order.objects.get(code=ANNA_CODE).contact_email != "Müller@bücher.de"

    page.get_by_role("button", name="Save contact").click()
    expect(page.locator("#contact")).to_contain_text("Müller@bücher.de")
    assert Order.objects.get(code=ANNA_CODE).contact_email == "Müller@bücher.de"
