"""The embedded default's sandbox reports from a timer thread; SQLite refuses a writer while another writes
("database is locked", seen during a bulk send of 48 orders), so the report tries again instead of being lost."""

from django.db import OperationalError

from notifications import sandbox


def test_a_report_refused_by_a_locked_database_is_tried_again(monkeypatch):
    monkeypatch.setattr(sandbox.time, "sleep", lambda seconds: None)
    calls: list[int] = []

    def report(*, message_id: int) -> None:
        calls.append(message_id)
        if len(calls) < 3:
            raise OperationalError("database is locked")

    sandbox._report_in_thread(report, 7)
    assert calls == [7, 7, 7]


def test_a_report_that_keeps_failing_is_logged_not_raised(monkeypatch, caplog):
    monkeypatch.setattr(sandbox.time, "sleep", lambda seconds: None)

    def report(*, message_id: int) -> None:
        raise OperationalError("database is locked")

    sandbox._report_in_thread(report, 8)
    assert "could not report on message 8" in caplog.text
