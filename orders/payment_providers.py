"""Payment providers: the one small interface the order services talk to, and the providers behind it.

Each Payment remembers its provider's key (`Payment.provider`); `provider_for(payment)` gives the provider
object. Which providers are enabled is configuration (settings.PAYMENT_PROVIDERS, from the environment:
.env.example); a payment whose provider is not enabled raises UnknownProvider.

The providers:

- **manual** ("Recorded by staff"): paid at the box office (cash, card terminal), by bank transfer, or complimentary;
  the method column says which.
  Staff pay the money back outside the portal and record the refund here with a note: it succeeds at once.
- **paypal** ("PayPal"): records only. PayPal payments are refunded in PayPal; staff record them here.
- **sandbox** ("Sandbox"): for the embedded default, the demo and the tests; nothing leaves the machine. A refund
  goes requested → processing when it is submitted, then, one step every SANDBOX_REFUND_STEP_SECONDS through
  queued tasks (orders.refunds.refund_poll), → confirming → succeeded. A refund of exactly
  **13.13** in a two-decimal currency (minor units 1313, so ¥1,313 in yen) fails at the last step on its
  first attempt, with the reason `SANDBOX_FAILURE`; its retry (attempt 2) succeeds. Payments are confirmed
  at once with no processing fee.
- **stripe** ("Stripe"): refunds of PaymentIntents (`Payment.reference` is the PaymentIntent id, "pi_…")
  through the official `stripe` package, each attempt sent with `refund.attempt_key` as Stripe's
  idempotency key. Enabled when STRIPE_SECRET_KEY is set. The outcome comes later by webhook
  (orders.webhooks) or polling (`refund_update`).

Amounts are `Decimal` in the order's currency (organiser_portal.money); providers that take minor units convert
at their edge (`stripe_amount`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, Protocol

import stripe
from django.conf import settings

from organiser_portal.money import from_minor, to_minor

from .models import Payment, Refund

RefundStatus = Refund.Status
PaymentStatus = Payment.Status

ZERO = Decimal("0")


class UnknownProvider(ValueError):
    """A payment's provider key that no enabled provider has (not configured, or a typo)."""


class ProviderUnreachable(Exception):
    """The provider could not be asked, or its answer was lost (network error, timeout, its own 5xx).

    Whether it acted is unknown: the caller leaves the refund where it is and learns the outcome later,
    by webhook or polling, never by sending a new request.
    """


@dataclass(frozen=True)
class RefundUpdate:
    """What a provider says about a refund."""

    status: str  # a Refund.Status value: processing, confirming, succeeded or failed
    provider_reference: str = ""  # the provider's id for the refund ("re_…"), "" when it has none
    error: str = ""  # the provider's reason when failed, in words an agent reads


@dataclass(frozen=True)
class PaymentUpdate:
    """What a provider says about a payment."""

    status: str  # a Payment.Status value: pending, confirmed or failed
    processing_fee: Decimal = ZERO  # the provider's fee, in the order's currency, when confirmed
    error: str = ""  # the provider's reason when failed


class PaymentProvider(Protocol):
    """What the order side needs of a payment provider; the attributes are read-only.

    key: "manual", "sandbox", "stripe", "paypal" (the value of `Payment.provider`). label: its name as a page
    shows it ("Stripe", "Recorded by staff"). records_refunds: staff pay the money back outside
    the portal and record it here with a note; the refund succeeds at once (manual, PayPal). refund_hint: one
    sentence the refund form shows, "" when none. poll_seconds: after how long a refund in processing or
    confirming is asked about again (refunds.refund_poll); None when the provider tells by webhook.
    """

    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def records_refunds(self) -> bool: ...
    @property
    def refund_hint(self) -> str: ...
    @property
    def poll_seconds(self) -> float | None: ...

    def start_refund(self, refund: Refund) -> RefundUpdate:
        """Ask the provider to pay `refund.amount` back, sending `refund.attempt_key` as idempotency key.

        Returns the provider's answer; a refusal is a RefundUpdate with status failed and the reason.
        Raises ProviderUnreachable when the answer is unknown.
        """
        ...

    def refund_update(self, refund: Refund) -> RefundUpdate | None:
        """The refund's status at the provider now; None when there is no news. Raises ProviderUnreachable."""
        ...

    def payment_update(self, payment: Payment) -> PaymentUpdate | None:
        """The payment's status at the provider now; None when the provider can't say (records only)."""
        ...


# --- Records only: manual and PayPal -----------------------------------------


@dataclass(frozen=True)
class RecordingProvider:
    """Money goes back outside the portal; the refund is a record of it, so it succeeds at once."""

    key: str
    label: str
    refund_hint: str
    records_refunds: bool = True
    poll_seconds: float | None = None

    def start_refund(self, refund: Refund) -> RefundUpdate:
        return RefundUpdate(status=RefundStatus.SUCCEEDED)

    def refund_update(self, refund: Refund) -> RefundUpdate | None:
        return None

    def payment_update(self, payment: Payment) -> PaymentUpdate | None:
        return PaymentUpdate(status=PaymentStatus.CONFIRMED) if self.key == "manual" else None


MANUAL = RecordingProvider(
    key="manual",
    label="Recorded by staff",
    refund_hint="Pay the money back in cash or by bank transfer first, then record it here with a note.",
)
PAYPAL = RecordingProvider(
    key="paypal",
    label="PayPal",
    refund_hint="PayPal payments are refunded in PayPal: refund there first, then record it here.",
)


# --- Sandbox --------------------------------------------------------------------

SANDBOX_FAILING_MINOR_UNITS = 1313  # €13.13, $13.13, ¥1,313
SANDBOX_FAILURE = "The card issuer declined the refund (sandbox: 13.13 fails on its first attempt)"


class SandboxProvider:
    """Refunds walk processing → confirming → succeeded, one step per poll; see the module docstring.

    It keeps no state of its own: each poll answers the next step after the refund's current status.
    """

    key = "sandbox"
    label = "Sandbox"
    records_refunds = False
    refund_hint = "Sandbox payment: no real money moves."

    @property
    def poll_seconds(self) -> float:
        return float(settings.SANDBOX_REFUND_STEP_SECONDS)

    @staticmethod
    def fails(refund: Refund) -> bool:
        """Whether this attempt of the refund fails: 13.13 (minor units 1313) on its first attempt."""
        return refund.attempt == 1 and to_minor(refund.amount, refund.order.currency) == SANDBOX_FAILING_MINOR_UNITS

    def start_refund(self, refund: Refund) -> RefundUpdate:
        return RefundUpdate(status=RefundStatus.PROCESSING, provider_reference=f"sandbox_{refund.attempt_key}")

    def refund_update(self, refund: Refund) -> RefundUpdate | None:
        reference = f"sandbox_{refund.attempt_key}"
        if refund.status == RefundStatus.PROCESSING:
            return RefundUpdate(status=RefundStatus.CONFIRMING, provider_reference=reference)
        if refund.status == RefundStatus.CONFIRMING:
            if self.fails(refund):
                return RefundUpdate(status=RefundStatus.FAILED, provider_reference=reference, error=SANDBOX_FAILURE)
            return RefundUpdate(status=RefundStatus.SUCCEEDED, provider_reference=reference)
        return None

    def payment_update(self, payment: Payment) -> PaymentUpdate | None:
        return PaymentUpdate(status=PaymentStatus.CONFIRMED)


# --- Stripe ---------------------------------------------------------------------

# Stripe's zero-decimal currencies (https://docs.stripe.com/currencies): ISO 4217 (babel's CLDR data, which
# organiser_portal.money uses) gives each of them 0 decimals too, so JPY 1200 goes as 1200 yen (a test holds
# them equal). ISK is the exception: zero-decimal in ISO, still sent to Stripe with two decimals.
STRIPE_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
STRIPE_TWO_DECIMAL = frozenset({"ISK"})

# Stripe's failure_reason of a failed refund, in an agent's words.
STRIPE_FAILURE_REASONS = {
    "lost_or_stolen_card": "The card was reported lost or stolen",
    "expired_or_canceled_card": "The card has expired or was cancelled",
    "charge_for_pending_refund_disputed": "The customer disputed the payment while the refund was pending",
    "insufficient_funds": "The Stripe balance is too low to pay the refund",
    "declined": "The card issuer declined the refund",
    "merchant_request": "The refund was cancelled in Stripe",
}
STRIPE_REFUND_STATUS = {
    "pending": RefundStatus.CONFIRMING,
    "requires_action": RefundStatus.CONFIRMING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}
# Stripe's errors that leave the outcome unknown: retried by Stripe's client, then left for polling.
_STRIPE_UNKNOWN_OUTCOME = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)


def stripe_amount(amount: Decimal, currency: str) -> int:
    """The amount in Stripe's minor units: `Decimal("12.50")` EUR → 1250 (cents), `Decimal("1200")` JPY → 1200
    (yen), `Decimal("1.5")` KWD → 1500, `Decimal("500")` ISK → 50000. Rounded like money_round first; raises
    like organiser_portal.money.to_minor (UnknownCurrency, TypeError for a float)."""
    units = to_minor(amount, currency)
    return units * 100 if currency in STRIPE_TWO_DECIMAL else units


def stripe_refund_update(stripe_refund: dict[str, Any]) -> RefundUpdate | None:
    """A Stripe Refund (as a dict: an API answer's `to_dict()`, or a webhook event's `data.object`) as a
    RefundUpdate; None for a status we don't know."""
    status = STRIPE_REFUND_STATUS.get(str(stripe_refund.get("status")))
    if status is None:
        return None
    error = ""
    if status == RefundStatus.FAILED:
        reason = stripe_refund.get("failure_reason") or (
            "merchant_request" if stripe_refund.get("status") == "canceled" else ""
        )
        error = STRIPE_FAILURE_REASONS.get(reason, f"Stripe could not pay the refund ({reason or 'no reason given'})")
    return RefundUpdate(status=status, provider_reference=str(stripe_refund.get("id") or ""), error=error)


def _from_stripe_amount(units: int, currency: str) -> Decimal:
    amount = from_minor(units, currency)
    return amount.scaleb(-2) if currency in STRIPE_TWO_DECIMAL else amount


def _message(error: stripe.StripeError) -> str:
    return (error.user_message or str(error) or type(error).__name__).splitlines()[0][:200]


def _unreachable(error: stripe.StripeError) -> ProviderUnreachable:
    return ProviderUnreachable(f"Stripe did not answer: {_message(error)}")


# Seconds to connect, and to wait for Stripe's answer. With the retries, a request is given up well before the
# poller asks about a refund (REFUND_POLL_AFTER_MINUTES), so it never concludes "no record" about one in flight.
STRIPE_TIMEOUT = (5, 30)


@cache
def _stripe_client(secret_key: str, max_network_retries: int) -> stripe.StripeClient:
    http_client = stripe.RequestsClient(timeout=STRIPE_TIMEOUT)
    return stripe.StripeClient(secret_key, max_network_retries=max_network_retries, http_client=http_client)


class StripeProvider:
    """Refunds of PaymentIntents (`Payment.reference` is the "pi_…" id).

    Stripe's client retries a lost request itself with the same idempotency key (STRIPE_MAX_NETWORK_RETRIES),
    which Stripe answers with the first request's result, so the money moves at most once. When even that
    fails, or Stripe answers 5xx or "too many requests", whether it acted is unknown: ProviderUnreachable, and
    the refund waits in processing for the webhook or the poller (`refund_update`), never for a new request.
    A refusal (invalid request, amount above what is left, credentials) is an answer: failed, with the reason.
    """

    key = "stripe"
    label = "Stripe"
    records_refunds = False
    refund_hint = ""
    poll_seconds = None

    @property
    def client(self) -> stripe.StripeClient:
        return _stripe_client(settings.STRIPE_SECRET_KEY, settings.STRIPE_MAX_NETWORK_RETRIES)

    def start_refund(self, refund: Refund) -> RefundUpdate:
        """POST /v1/refunds for the PaymentIntent with the amount in Stripe's minor units (`stripe_amount`),
        `refund.attempt_key` as Idempotency-Key, and metadata refund_id / attempt_key / order, by which the
        webhook and the poller find the refund."""
        payment = refund.payment
        if payment is None or not payment.reference.startswith("pi_"):
            return RefundUpdate(status=RefundStatus.FAILED, error="The payment has no Stripe PaymentIntent to refund")
        try:
            amount = stripe_amount(refund.amount, refund.order.currency)
        except ValueError as error:
            return RefundUpdate(status=RefundStatus.FAILED, error=str(error))
        params: Any = {
            "payment_intent": payment.reference,
            "amount": amount,
            "reason": "requested_by_customer",
            "metadata": {"refund_id": str(refund.pk), "attempt_key": refund.attempt_key, "order": refund.order.code},
        }
        try:
            created = self.client.v1.refunds.create(params, {"idempotency_key": refund.attempt_key})
        except _STRIPE_UNKNOWN_OUTCOME as error:
            raise _unreachable(error) from error
        except stripe.StripeError as error:
            return RefundUpdate(status=RefundStatus.FAILED, error=f"Stripe refused the refund: {_message(error)}")
        answer = created.to_dict()
        return stripe_refund_update(answer) or RefundUpdate(
            status=RefundStatus.CONFIRMING, provider_reference=str(answer.get("id", ""))
        )

    def refund_update(self, refund: Refund) -> RefundUpdate | None:
        """By the refund's Stripe id; without one (the first answer was lost), by the attempt key it was created
        with, among the PaymentIntent's refunds. Stripe having no such refund means no money moved: the attempt
        failed and may be retried (with a new key)."""
        try:
            if refund.provider_reference:
                return stripe_refund_update(self.client.v1.refunds.retrieve(refund.provider_reference).to_dict())
            if refund.payment is None or not refund.payment.reference.startswith("pi_"):
                return None
            listed = self.client.v1.refunds.list({"payment_intent": refund.payment.reference, "limit": 100})
        except _STRIPE_UNKNOWN_OUTCOME as error:
            raise _unreachable(error) from error
        for stripe_refund in listed.to_dict().get("data", []):
            if (stripe_refund.get("metadata") or {}).get("attempt_key") == refund.attempt_key:
                return stripe_refund_update(stripe_refund)
        return RefundUpdate(status=RefundStatus.FAILED, error="Stripe has no record of this refund: no money moved")

    def payment_update(self, payment: Payment) -> PaymentUpdate | None:
        """The PaymentIntent's status: succeeded → confirmed with Stripe's fee; canceled → failed; anything
        else → pending."""
        if not payment.reference.startswith("pi_"):
            return None
        try:
            intent = self.client.v1.payment_intents.retrieve(
                payment.reference, {"expand": ["latest_charge.balance_transaction"]}
            ).to_dict()
        except _STRIPE_UNKNOWN_OUTCOME as error:
            raise _unreachable(error) from error
        status = intent.get("status")
        if status == "succeeded":
            fee = ZERO
            charge = intent.get("latest_charge")
            transaction = charge.get("balance_transaction") if isinstance(charge, dict) else None
            if isinstance(transaction, dict) and transaction.get("fee") is not None:
                fee = _from_stripe_amount(int(transaction["fee"]), str(transaction.get("currency", "")).upper())
            return PaymentUpdate(status=PaymentStatus.CONFIRMED, processing_fee=fee)
        if status == "canceled":
            return PaymentUpdate(status=PaymentStatus.FAILED, error="The payment was cancelled in Stripe")
        # requires_payment_method after a declined card included: the buyer may still try another card.
        return PaymentUpdate(status=PaymentStatus.PENDING)


# --- Registry ----------------------------------------------------------------------

_PROVIDERS: dict[str, PaymentProvider] = {
    "manual": MANUAL,
    "paypal": PAYPAL,
    "sandbox": SandboxProvider(),
    "stripe": StripeProvider(),
}


def providers_enabled() -> dict[str, PaymentProvider]:
    """The enabled providers by key, in the order of settings.PAYMENT_PROVIDERS."""
    return {key: _PROVIDERS[key] for key in settings.PAYMENT_PROVIDERS if key in _PROVIDERS}


def provider_get(key: str) -> PaymentProvider:
    """The enabled provider with this key. Raises UnknownProvider for a key that is unknown or not enabled."""
    provider = providers_enabled().get(key)
    if provider is None:
        known = ", ".join(settings.PAYMENT_PROVIDERS) or "none"
        raise UnknownProvider(f"Payment provider {key!r} is not enabled (enabled: {known}).")
    return provider


def provider_for(payment: Payment) -> PaymentProvider:
    """The provider of `payment` (by `payment.provider`). Raises UnknownProvider like `provider_get`."""
    return provider_get(payment.provider)
