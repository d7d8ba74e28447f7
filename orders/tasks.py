"""Celery tasks of the order side: thin, take IDs, safe to run twice (each service checks the state it needs)."""

from __future__ import annotations

from celery import shared_task

from . import bulk, imports, payments, refunds


@shared_task(name=refunds.REFUND_SUBMIT_TASK, acks_late=True)
def refund_submit(refund_id: int) -> None:
    """Send a requested refund to its provider (does nothing unless it is still requested)."""
    refunds.refund_submit(refund_id)


@shared_task(name=refunds.REFUND_POLL_TASK, acks_late=True)
def refund_poll(refund_id: int) -> None:
    """Ask the provider about a refund on its way."""
    refunds.refund_poll(refund_id)


@shared_task(name="orders.tasks.refunds_poll_stale")
def refunds_poll_stale() -> int:
    """Periodic (celery beat): refunds without news for a while are submitted or asked about again."""
    return refunds.refunds_poll_stale()


@shared_task(name="orders.tasks.reservations_expire")
def reservations_expire() -> int:
    """Periodic (celery beat): reserved orders past ORDER_RESERVATION_MINUTES expire."""
    return payments.reservations_expire()


@shared_task(name="orders.tasks.payments_expire_abandoned")
def payments_expire_abandoned() -> int:
    """Periodic (celery beat): payments with no answer after PAYMENT_ABANDONED_MINUTES end as expired."""
    return payments.payments_expire_abandoned()


@shared_task(name=bulk.BULK_SEND_TASK, bind=True, acks_late=True, max_retries=3)
def bulk_send_run(self, bulk_send_id: int) -> str:
    """Queue a bulk send's emails (orders/bulk.py), from where it stands: safe to run twice or after a crash."""
    try:
        job = bulk.bulk_send_run(bulk_send_id=bulk_send_id)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            bulk.bulk_send_fail(bulk_send_id=bulk_send_id, error=f"Stopped by an error on our side: {error}")
            raise
        raise self.retry(exc=error, countdown=10) from error
    return f"{job.status}: {job.done} queued, {job.skipped} skipped"


@shared_task(name=imports.IMPORT_TASK, acks_late=True, time_limit=900, soft_time_limit=840)
def import_run(run_id: int) -> None:
    """Run a confirmed order import (does nothing unless it is still queued)."""
    imports.import_run_execute(run_id)
