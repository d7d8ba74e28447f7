"""guests/sql.py's two forms give the same results on the same data: the name-words refresh."""

import pytest

from guests.models import NameWord
from guests.services import name_words_refresh
from tests.factories import CustomerFactory, EventFactory, TicketTypeFactory
from tests.sql_forms import run_each_form

pytestmark = pytest.mark.django_db


def words() -> set[tuple[int, str]]:
    return set(NameWord.objects.values_list("organisation_id", "word"))


def test_the_name_words_refresh_adds_the_same_words_either_way(organisation, other_organisation, make_order):
    make_order(contact_name="Ottilie Zwanziger-Brandt", contact_email="oz@example.com")
    make_order(contact_name="Jürgen  Müller", contact_email="jm@example.com")  # two spaces, as typed
    make_order(contact_name="Al Bo", contact_email="ab@example.com")  # words too short to correct
    CustomerFactory(organisation=organisation, name="Kunigunde Ab", email="k@example.com")
    theirs = EventFactory(organisation=other_organisation)
    make_order(event=theirs, ticket_type=TicketTypeFactory(event=theirs), contact_name="Anna Ölmann")
    NameWord.objects.create(organisation=organisation, word="muller")  # known already: stays, once

    def scenario():
        for_one = name_words_refresh(organisation=organisation)
        words_of_one = words()
        for_all = name_words_refresh()
        return for_one, words_of_one, for_all, words(), name_words_refresh()

    pg, portable = run_each_form(scenario)

    assert pg.outcome == portable.outcome
    for_one, words_of_one, for_all, every_word, again = pg.outcome
    ours, others = organisation.pk, other_organisation.pk
    assert words_of_one == {
        (ours, word) for word in ("ottilie", "zwanziger", "brandt", "jurgen", "muller", "kunigunde")
    }
    assert (for_one, for_all, again) == (5, 2, 0)
    assert every_word == words_of_one | {(others, "anna"), (others, "olmann")}
    assert pg.ran("regexp_split_to_table") and not portable.ran("regexp_split_to_table")
