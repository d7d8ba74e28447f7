"""The payment providers: the registry, Stripe's amounts and requests (Stripe's HTTP answers mocked), the sandbox."""

import subprocess
import sys
from decimal import Decimal

import pytest
import requests
import responses

from orders.models import Payment, Refund
from orders.payment_providers import (
    MANUAL,
    PAYPAL,
    SANDBOX_FAILURE,
    STRIPE_ZERO_DECIMAL,
    ProviderUnreachable,
    RefundUpdate,
    UnknownProvider,
    provider_for,
    provider_get,
    providers_enabled,
    stripe_amount,
)
from organiser_portal.money import minor_units
from tests import production
from tests.factories import EventFactory, TicketTypeFactory

from .refund_setup import STRIPE_REFUNDS, TEST_STRIPE_KEY, form, paid_order, requested_refund, stripe_error

pytestmark = pytest.mark.django_db
Status = Refund.Status


@pytest.fixture
def stripe_on(settings):
    settings.STRIPE_SECRET_KEY = TEST_STRIPE_KEY
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.PAYMENT_PROVIDERS = [*settings.PAYMENT_PROVIDERS, "stripe"]


@pytest.fixture
def jpy_ticket_type(organisation):
    event = EventFactory(organisation=organisation, name="Tokyo Night", currency="JPY", time_zone="Asia/Tokyo")
    return TicketTypeFactory(event=event, price=Decimal("1200"), booking_fee=Decimal("0"), tax_rate=Decimal("10"))


# --- Registry ---------------------------------------------------------------------


def test_the_embedded_default_enables_manual_sandbox_and_paypal_and_stripe_only_with_its_key(settings):
    assert list(providers_enabled()) == ["manual", "sandbox", "paypal"]
    assert settings.STRIPE_SECRET_KEY == ""
    with pytest.raises(UnknownProvider, match="'stripe' is not enabled"):
        provider_get("stripe")


def test_stripe_is_enabled_by_its_key(stripe_on):
    assert provider_get("stripe").label == "Stripe"


def test_each_payment_finds_its_provider_and_an_unknown_key_is_refused(make_order):
    payment = make_order().payments.get()
    payment.provider = "paypal"
    assert provider_for(payment) is PAYPAL
    payment.provider = "test"
    with pytest.raises(UnknownProvider):
        provider_for(payment)
    assert isinstance(UnknownProvider("x"), ValueError)


def test_records_only_providers_say_why_in_one_sentence():
    assert MANUAL.records_refunds and PAYPAL.records_refunds
    assert PAYPAL.refund_hint == "PayPal payments are refunded in PayPal: refund there first, then record it here."
    assert MANUAL.label == "Recorded by staff"
    assert provider_get("sandbox").records_refunds is False


# --- Stripe's minor units -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("12.50", "EUR", 1250),
        ("0.01", "EUR", 1),
        ("1200", "JPY", 1200),
        ("50000", "KRW", 50000),
        ("1.5", "KWD", 1500),
        ("500", "ISK", 50000),  # zero-decimal in ISO, two decimals at Stripe
    ],
)
def test_stripe_amounts_are_in_stripes_minor_units(amount, currency, units):
    assert stripe_amount(Decimal(amount), currency) == units


def test_amounts_are_rounded_to_what_stripe_can_take_and_floats_refused():
    assert stripe_amount(Decimal("1200.4"), "JPY") == 1200
    assert stripe_amount(Decimal("12.505"), "EUR") == 1251
    with pytest.raises(TypeError):
        stripe_amount(12.5, "EUR")


@pytest.mark.parametrize("currency", sorted(STRIPE_ZERO_DECIMAL))
def test_stripes_zero_decimal_currencies_have_no_decimals_in_iso_either(currency):
    assert minor_units(currency) == 0


# --- Stripe's requests -------------------------------------------------------------------------


@responses.activate
def test_start_refund_sends_cents_the_payment_intent_and_the_attempt_key(stripe_on, event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, provider="stripe")
    refund = requested_refund(order, amount=Decimal("26.25"))
    responses.post(STRIPE_REFUNDS, json={"id": "re_1", "object": "refund", "status": "pending", "metadata": {}})

    update = provider_get("stripe").start_refund(refund)

    assert update == RefundUpdate(status=Status.CONFIRMING, provider_reference="re_1")
    (call,) = responses.calls
    assert call.request.headers["Idempotency-Key"] == refund.attempt_key == f"{refund.idempotency_key}:1"
    assert call.request.headers["Authorization"] == f"Bearer {TEST_STRIPE_KEY}"
    sent = form(call.request)
    assert sent["amount"] == "2625"
    assert sent["payment_intent"] == order.payments.get().reference
    assert sent["metadata[refund_id]"] == str(refund.pk)
    assert sent["metadata[attempt_key]"] == refund.attempt_key


@responses.activate
def test_start_refund_sends_yen_as_whole_yen(stripe_on, jpy_ticket_type):
    order = paid_order(event=jpy_ticket_type.event, ticket_type=jpy_ticket_type, provider="stripe", quantity=2)
    assert order.total == Decimal("2400")
    refund = requested_refund(order)
    responses.post(STRIPE_REFUNDS, json={"id": "re_2", "object": "refund", "status": "succeeded", "metadata": {}})

    update = provider_get("stripe").start_refund(refund)

    assert update.status == Status.SUCCEEDED
    assert form(responses.calls[0].request)["amount"] == "2400"


@responses.activate
def test_a_refusal_is_an_answer_failed_with_stripes_reason(stripe_on, event, ticket_type):
    refund = requested_refund(paid_order(event=event, ticket_type=ticket_type, provider="stripe"))
    message = "Refund amount (€60.00) is greater than unrefunded amount on charge (€52.50)"
    responses.post(STRIPE_REFUNDS, body=stripe_error(message), status=400, content_type="application/json")

    update = provider_get("stripe").start_refund(refund)

    assert update.status == Status.FAILED
    assert update.error == f"Stripe refused the refund: {message}"


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.ConnectionError("connection reset")},
        {"status": 500, "json": {"error": {"type": "api_error", "message": "Something went wrong"}}},
        {"status": 429, "json": {"error": {"type": "rate_limit_error", "message": "Too many requests"}}},
    ],
    ids=["network", "stripe-5xx", "rate-limited"],
)
@responses.activate
def test_an_unknown_outcome_is_not_a_failure(stripe_on, event, ticket_type, answer):
    refund = requested_refund(paid_order(event=event, ticket_type=ticket_type, provider="stripe"))
    responses.post(STRIPE_REFUNDS, **answer)
    with pytest.raises(ProviderUnreachable):
        provider_get("stripe").start_refund(refund)


@responses.activate
def test_refund_update_reads_the_refund_by_its_stripe_id(stripe_on, event, ticket_type):
    refund = requested_refund(paid_order(event=event, ticket_type=ticket_type, provider="stripe"))
    refund.provider_reference = "re_9"
    responses.get(
        f"{STRIPE_REFUNDS}/re_9",
        json={"id": "re_9", "object": "refund", "status": "failed", "failure_reason": "expired_or_canceled_card"},
    )
    assert provider_get("stripe").refund_update(refund) == RefundUpdate(
        status=Status.FAILED, provider_reference="re_9", error="The card has expired or was cancelled"
    )


@responses.activate
def test_refund_update_without_an_id_finds_the_attempt_by_its_key(stripe_on, event, ticket_type):
    refund = requested_refund(paid_order(event=event, ticket_type=ticket_type, provider="stripe"))
    mine = {"id": "re_mine", "object": "refund", "status": "succeeded", "metadata": {"attempt_key": refund.attempt_key}}
    other = {"id": "re_old", "object": "refund", "status": "failed", "metadata": {"attempt_key": "x:1"}}
    responses.get(STRIPE_REFUNDS, json={"object": "list", "data": [other, mine], "has_more": False})

    assert provider_get("stripe").refund_update(refund) == RefundUpdate(
        status=Status.SUCCEEDED, provider_reference="re_mine"
    )
    assert responses.calls[0].request.params["payment_intent"] == refund.payment.reference

    responses.replace(responses.GET, STRIPE_REFUNDS, json={"object": "list", "data": [other], "has_more": False})
    update = provider_get("stripe").refund_update(refund)
    assert (update.status, update.error) == (Status.FAILED, "Stripe has no record of this refund: no money moved")


@responses.activate
def test_a_stripe_payment_confirms_with_stripes_fee(stripe_on, event, ticket_type):
    order = paid_order(event=event, ticket_type=ticket_type, provider="stripe")
    payment = order.payments.get()
    responses.get(
        f"https://api.stripe.com/v1/payment_intents/{payment.reference}",
        json={
            "id": payment.reference,
            "object": "payment_intent",
            "status": "succeeded",
            "latest_charge": {"id": "ch_1", "balance_transaction": {"id": "txn_1", "fee": 182, "currency": "eur"}},
        },
    )
    update = provider_get("stripe").payment_update(payment)
    assert (update.status, update.processing_fee) == (Payment.Status.CONFIRMED, Decimal("1.82"))


# --- Sandbox ---------------------------------------------------------------------------------


def test_the_sandbox_answers_the_next_step_and_fails_13_13_on_the_first_attempt(event, ticket_type):
    sandbox = provider_get("sandbox")
    refund = requested_refund(paid_order(event=event, ticket_type=ticket_type), amount=Decimal("13.13"))
    assert sandbox.start_refund(refund).status == Status.PROCESSING
    refund.status = Status.PROCESSING
    assert sandbox.refund_update(refund).status == Status.CONFIRMING
    refund.status = Status.CONFIRMING
    assert sandbox.refund_update(refund) == RefundUpdate(
        status=Status.FAILED, provider_reference=f"sandbox_{refund.attempt_key}", error=SANDBOX_FAILURE
    )
    refund.attempt = 2
    assert sandbox.refund_update(refund).status == Status.SUCCEEDED
    refund.status = Status.SUCCEEDED
    assert sandbox.refund_update(refund) is None


def test_the_sandbox_fails_1313_yen(jpy_ticket_type):
    order = paid_order(event=jpy_ticket_type.event, ticket_type=jpy_ticket_type, quantity=2)
    refund = requested_refund(order, amount=Decimal("1313"))
    refund.status = Status.CONFIRMING
    assert provider_get("sandbox").refund_update(refund).status == Status.FAILED
    refund.amount = Decimal("1200")
    assert provider_get("sandbox").refund_update(refund).status == Status.SUCCEEDED


# --- Configuration, as a deployment sets it -------------------------------------------------------------

PROVIDERS = "import django; django.setup(); from django.conf import settings; print(settings.PAYMENT_PROVIDERS)"


def load_settings(**env: str):
    return subprocess.run(
        [sys.executable, "-c", PROVIDERS],
        cwd=production.ROOT,
        env=production.bare_env(
            DJANGO_SETTINGS_MODULE="organiser_portal.settings",
            DEBUG="0",
            SECRET_KEY="k" * 10 + "-a-strong-secret-key-for-these-tests-only-0123456789",
            ANYMAIL_WEBHOOK_SECRET="portal-hooks:" + "p" * 32,
            **env,
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "providers"),
    [
        ({}, "['manual', 'sandbox', 'paypal']"),
        ({"PAYMENT_PROVIDERS": "manual,paypal"}, "['manual', 'paypal']"),
        ({"PAYMENT_PROVIDERS": "manual,stripe"}, "['manual']"),  # Stripe only with its key
        (
            {
                "PAYMENT_PROVIDERS": "manual,paypal",
                "STRIPE_SECRET_KEY": "sk_live_x",
                "STRIPE_WEBHOOK_SECRET": "whsec_x",
            },
            "['manual', 'paypal', 'stripe']",
        ),
    ],
)
def test_the_environment_chooses_the_providers(env, providers):
    loaded = load_settings(**env)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == providers


def test_a_stripe_key_without_its_webhook_secret_refuses_to_start_outside_debug():
    loaded = load_settings(STRIPE_SECRET_KEY="sk_live_x")
    assert loaded.returncode != 0
    assert "STRIPE_SECRET_KEY is set without STRIPE_WEBHOOK_SECRET" in loaded.stderr
