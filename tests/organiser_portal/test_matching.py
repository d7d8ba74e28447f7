"""organiser_portal.matching: one folding rule for stored names and for queries."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from organiser_portal.matching import fold, long_enough, min_query_length, name_key


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Anna Muller", "Anna Müller"),
        ("Jose Ramirez", "José Ramírez"),
        ("Lefevre", "Lefèvre"),
        ("Soren Ostergard", "Søren Østergård"),
        ("Lukasz Wisniewski", "Łukasz Wiśniewski"),
        ("Strasse", "Straße"),
        ("Aero", "Ærø"),
        ("Dorde Dokovic", "Đorđe Đoković"),
        ("Yildiz", "Yıldız"),
        ("O'Brien", "O’Brien"),  # the typographic apostrophe a phone keyboard writes
        ("anna-lena  schmidt", "Anna\u2011Lena Schmidt"),  # a non-breaking hyphen, two spaces
        ("ＡＮＮＡ", "anna"),  # fullwidth letters (NFKC)
    ],
)
def test_what_people_type_folds_to_the_stored_name(typed, stored):
    assert name_key(typed) == name_key(stored)


def test_decomposed_and_precomposed_meet_both_ways():
    precomposed, decomposed = "Zoë Müller", unicodedata.normalize("NFD", "Zoë Müller")
    assert precomposed != decomposed
    assert name_key(precomposed) == name_key(decomposed) == "zoe muller"


def test_han_hangul_and_kana_runs_get_their_two_character_pieces():
    assert name_key("김민준") == "김민준 김민 민준"  # the given name 민준 is a word
    assert name_key("王芳") == "王芳"  # two characters: already a word
    assert name_key("Kim 김민준") == "kim 김민준 김민 민준"
    assert name_key("ガ") == "ガ" and name_key("が") != name_key("か")  # kana voicing marks stay


def test_the_minimum_query_fits_the_script():
    assert min_query_length("王芳") == 2 and long_enough("王芳") and long_enough("민준")
    assert min_query_length("Li") == 3 and not long_enough("Li") and not long_enough("王")
    assert long_enough("Lee") and long_enough("a b c")


def test_fold_leaves_no_combining_marks_on_latin_letters():
    assert fold("Ça va, Ñandú") == "ca va, nandu"


@given(st.text())
def test_name_key_of_a_decomposed_text_is_the_same(text):
    assert name_key(unicodedata.normalize("NFD", text)) == name_key(text)


@given(st.text())
def test_name_key_is_idempotent(text):
    once = name_key(text)
    assert name_key(once) == once
