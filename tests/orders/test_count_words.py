"""Counts in the bulk send's and the import's progress agree with their number: "1 order", "2 orders"."""

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from orders.bulk_record import BulkSend


def _bulk_progress(*, total: int, done: int, sent: int, finished: bool, sending: bool) -> str:
    bulk = SimpleNamespace(
        pk=1,
        status="running",
        error="",
        finished=finished,
        position=0,
        total=total,
        done=done,
        skipped=0,
        created_by=None,
        get_action_display="Resend tickets",
    )
    progress = SimpleNamespace(bulk=bulk, sending=sending, sent=sent, waiting=0, sent_percent=0.0, queued_percent=0.0)
    context = {
        "progress": progress,
        "access": SimpleNamespace(organisation=SimpleNamespace(slug="org")),
        "event": SimpleNamespace(public_id="EV1"),
    }
    return " ".join(render_to_string("orders/_bulk_progress.html", context).split())


@pytest.mark.parametrize(("n", "noun"), [(1, "order"), (2, "orders")])
def test_bulk_progress_queueing(n, noun):
    assert f"Queueing 0 of {n} {noun}…" in _bulk_progress(total=n, done=0, sent=0, finished=False, sending=True)


@pytest.mark.parametrize(("n", "noun"), [(1, "email"), (3, "emails")])
def test_bulk_progress_sending_and_done(n, noun):
    sending = _bulk_progress(total=n, done=n, sent=0, finished=True, sending=True)
    assert f"Sending: 0 of {n} {noun} handed to the email service" in sending
    done = _bulk_progress(total=n, done=n, sent=n, finished=True, sending=False)
    assert f"Done: {n} of {n} {noun} sent" in done


@pytest.mark.parametrize(("n", "words"), [(1, "1 order"), (4, "4 orders")])
def test_a_bulk_send_names_its_count(n, words):
    assert str(BulkSend(action=BulkSend.Action.RESEND, total=n)).endswith(f"· {words}")
