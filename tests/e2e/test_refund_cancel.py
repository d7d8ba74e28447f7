"""Refunds and cancellations in a real browser, on the embedded default: tasks in process, the sandbox payment
provider walking each refund through its states a moment apart. The order page follows them without a reload."""

import pytest
from django.db.models import Count, Q
from playwright.sync_api import Page, expect

from demo.specs import DEMO_ORG_SLUG
from orders.models import Order, Refund
from organiser_portal.celery import app as celery_app

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FAILED_DEMO_REFUND = "HPGF9NR"  # the demo's order in "Refund error" (demo/money.py, story refund_failed)


@pytest.fixture
def embedded_default(demo, settings):
    """The sandbox payment provider with tasks in process, as `make run` runs it; a step every second."""
    settings.SANDBOX_REFUND_STEP_SECONDS = 1.0
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = old


def _paid_sandbox_order(tickets: int, *, exclude: tuple[str, ...] = ()) -> Order | None:
    """A demo order paid through the sandbox with `tickets` valid tickets, none used, never refunded."""
    return (
        Order.objects.filter(
            organisation__slug=DEMO_ORG_SLUG, status="paid", tickets_held=False, payments__provider="sandbox"
        )
        .exclude(code__in=exclude)
        .annotate(
            valid=Count("tickets", filter=Q(tickets__status="valid", tickets__used_at__isnull=True), distinct=True),
            everything=Count("tickets", distinct=True),
            refund_count=Count("refunds", distinct=True),
        )
        .filter(valid=tickets, everything=tickets, refund_count=0)
        .order_by("code")
        .first()
    )


def _open_action(page: Page, name: str) -> None:
    page.get_by_text("⋯ Actions").click()
    page.locator("#actions").get_by_role("link", name=name, exact=True).click()


def test_manager_refunds_one_ticket_and_watches_it_reach_item_refunded(
    embedded_default, live_server, page: Page, screenshot_dir, assert_accessible
):
    order = _paid_sandbox_order(3)
    assert order is not None, "the demo has a paid three-ticket sandbox order"
    first = order.tickets.order_by("id").first()
    assert first is not None
    log_in(page, live_server, "manager@demo.example", "demo-manager")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/")
    page.evaluate("window.stillTheSamePage = true")  # gone if anything reloads the page

    _open_action(page, "Refund")
    dialog = page.locator("dialog#action-dialog #refund")
    expect(dialog.get_by_role("heading", name="Refund")).to_be_visible()
    dialog.get_by_label("Some tickets").check()
    dialog.locator(f"#ticket-{first.public_id}").check()
    dialog.get_by_label("Reason").fill("Guest can't come")
    assert_accessible(page, "the refund form in its dialog")
    page.screenshot(path=str(screenshot_dir / "refund-form.png"))
    dialog.get_by_role("button", name="Review refund").click()

    expect(dialog.get_by_role("heading", name="Confirm the refund")).to_be_visible()
    expect(dialog.locator(".refund-review")).to_contain_text("These become Invalid · refunded")
    expect(dialog.locator(".refund-tickets")).to_contain_text(first.public_id)
    expect(dialog.locator(".refund-review")).to_contain_text("Sandbox · Card")
    assert_accessible(page, "the refund's confirmation")
    page.screenshot(path=str(screenshot_dir / "refund-review.png"))
    dialog.get_by_role("button", name="Refund ").click()

    refunds = page.locator("#payments table.refunds")
    expect(page.get_by_role("status").filter(has_text="requested")).to_be_visible()
    expect(refunds.locator(".refund-state").first).to_have_text("Item refunded", timeout=20_000)
    expect(page.locator("#tickets")).to_contain_text("Invalid · refunded")
    expect(page.locator("#order-status")).to_contain_text("Paid · partially refunded")
    expect(page.locator(".timeline")).to_contain_text("Confirming refund of")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    page.screenshot(path=str(screenshot_dir / "refund-done.png"), full_page=True)

    refund = Refund.objects.get(order=order)
    assert refund.status == "succeeded" and list(refund.tickets.all()) == [first]
    order.refresh_from_db()
    assert order.refunded_total == refund.amount and order.refunding_total == 0


def test_ticking_a_ticket_chooses_some_tickets_and_a_conflict_is_refused_before_any_refund(
    demo, live_server, page: Page, assert_accessible
):
    order = _paid_sandbox_order(3)
    assert order is not None, "the demo has a paid three-ticket sandbox order"
    first = order.tickets.order_by("id").first()
    assert first is not None
    log_in(page, live_server, "manager@demo.example", "demo-manager")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/")
    _open_action(page, "Refund")
    dialog = page.locator("dialog#action-dialog #refund")
    expect(dialog.get_by_label("Every ticket still valid")).to_be_checked()

    dialog.locator(f"#ticket-{first.public_id}").check()  # the radio left alone, as the newcomer did
    expect(dialog.get_by_label("Some tickets")).to_be_checked()
    expect(dialog.get_by_label("Every ticket still valid")).not_to_be_checked()
    dialog.get_by_label("Amount in EUR").fill("5")
    expect(dialog.get_by_label("An amount, up to")).to_be_checked()
    dialog.get_by_label("Amount in EUR").fill("")

    # Chosen back on purpose, the ticket still ticked: the server refuses rather than refund every ticket.
    dialog.get_by_label("Every ticket still valid").check()
    dialog.get_by_label("Reason").fill("Guest can't come")
    dialog.get_by_role("button", name="Review refund").click()
    expect(dialog.get_by_role("alert")).to_contain_text("You ticked 1 ticket but chose “Every ticket still valid”")
    expect(dialog.get_by_role("heading", name="Confirm the refund")).to_have_count(0)
    assert_accessible(page, "the refund form refusing a ticked ticket with every ticket chosen")

    dialog.get_by_label("Some tickets").check()
    dialog.get_by_role("button", name="Review refund").click()
    expect(dialog.get_by_role("heading", name="Confirm the refund")).to_be_visible()
    expect(dialog.locator(".refund-scope")).to_have_text(
        "Refund 1 of 3 tickets: it becomes Invalid · refunded; the other 2 tickets stay valid."
    )
    assert not Refund.objects.filter(order=order).exists()


def test_manager_retries_the_failed_demo_refund(embedded_default, live_server, page: Page):
    log_in(page, live_server, "manager@demo.example", "demo-manager")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{FAILED_DEMO_REFUND}/")
    page.evaluate("window.stillTheSamePage = true")
    row = page.locator("#payments table.refunds tbody tr").first
    expect(row.locator(".refund-state")).to_have_text("Refund error")
    expect(row.locator(".refund-error")).to_contain_text("card expired")

    row.get_by_role("button", name="Retry").click()
    expect(row.locator(".refund-state")).to_have_text("Item refunded", timeout=20_000)
    expect(row).to_contain_text("Attempt 2")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    refund = Refund.objects.get(order__code=FAILED_DEMO_REFUND)
    assert (refund.status, refund.attempt, refund.error) == ("succeeded", 2, "")


def test_manager_cancels_an_order_with_its_refund(
    embedded_default, live_server, page: Page, screenshot_dir, assert_accessible
):
    order = _paid_sandbox_order(2) or _paid_sandbox_order(1)
    assert order is not None
    log_in(page, live_server, "manager@demo.example", "demo-manager")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/cancel/")  # the page, without the dialog
    form = page.locator("#cancel")
    expect(form.get_by_role("heading", name="Cancel order")).to_be_visible()
    expect(form.locator(".cancel-tickets li")).to_have_count(order.tickets.count())
    form.get_by_label("Reason").fill("Guest asked to cancel")
    assert_accessible(page, "the cancel page")
    page.screenshot(path=str(screenshot_dir / "cancel-form.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "cancel-form-390.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    form.get_by_role("button", name=f"Cancel order {order.code}").click()

    expect(page.get_by_role("heading", name=f"Order {order.code}")).to_be_visible()
    expect(page.locator("#order-status")).to_contain_text("Cancelled")
    expect(page.locator("#tickets")).not_to_contain_text("Valid · unused")
    expect(page.locator("#tickets")).to_contain_text("Invalid · cancelled")
    expect(page.locator(".timeline")).to_contain_text("Item cancelled")
    expect(page.locator("#payments table.refunds .refund-state").first).to_have_text("Item refunded", timeout=20_000)
    order.refresh_from_db()
    assert order.status == "cancelled" and order.refunded_total > 0


def test_support_agent_sees_refund_and_cancel_disabled(demo, live_server, page: Page, assert_accessible):
    order = _paid_sandbox_order(1)
    assert order is not None
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/")
    page.get_by_text("⋯ Actions").click()
    menu = page.locator("#actions")
    expect(menu.get_by_role("link", name="Refund", exact=True)).to_have_count(0)
    expect(menu.get_by_text("Your role (Support agent) can't refund orders")).to_be_visible()
    expect(menu.get_by_text("Your role (Support agent) can't cancel orders")).to_be_visible()
    assert_accessible(page, "the order page with the menu open, as a support agent")
