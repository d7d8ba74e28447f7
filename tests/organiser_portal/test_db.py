"""organiser_portal.db: the switch between the SQL forms, the names from `_meta`, and the core's one statement."""

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import connection

from orders.models import Order
from organiser_portal.admin import EstimatedCountPaginator
from organiser_portal.db import Table, is_postgres, portable_sql
from tests.sql_forms import run_each_form
from tickets.models import Ticket


def test_portable_sql_switches_the_forms_for_the_block_only():
    assert is_postgres() is (connection.vendor == "postgresql")
    with pytest.raises(RuntimeError), portable_sql():
        assert not is_postgres()
        with portable_sql():
            assert not is_postgres()
        assert not is_postgres()
        raise RuntimeError("the block fails")
    assert is_postgres() is (connection.vendor == "postgresql")


def test_table_names_come_from_the_models_meta():
    ticket = Table(Ticket)
    assert str(ticket) == Ticket._meta.db_table == "tickets_ticket"
    assert (ticket.order, ticket.public_id, ticket.id) == ("order_id", "public_id", "id")
    assert ticket.columns("t", ("id", "event_id", "used_at")) == "t.id, t.event_id, t.used_at"
    with pytest.raises(FieldDoesNotExist):
        _ = ticket.no_such_field
    with pytest.raises(AttributeError):
        _ = ticket.scans  # a reverse relation: no column of this table


@pytest.mark.django_db
def test_the_admins_count_is_the_same_either_way_on_a_small_table(make_order, monkeypatch):
    for _ in range(3):
        make_order(paid=False)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Table(Order)}")  # the planner's estimate: three rows
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 1)

    pg, portable = run_each_form(lambda: EstimatedCountPaginator(Order.objects.all(), 50).count)

    assert pg.outcome == portable.outcome == 3
    assert pg.ran("reltuples") and not pg.ran("COUNT(*)")  # the estimate answered
    assert portable.ran("COUNT(*)") and not portable.ran("reltuples")
