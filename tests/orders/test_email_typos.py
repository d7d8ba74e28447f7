import pytest

from orders.email_typos import suggest_email


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("anna@gmial.com", "anna@gmail.com"),
        ("anna@hotmial.com", "anna@hotmail.com"),
        ("anna@gmail.con", "anna@gmail.com"),
        ("anna@gmail.co", "anna@gmail.com"),
        ("anna@yaho.com", "anna@yahoo.com"),
        ("anna@wbe.de", "anna@web.de"),
        ("anna@festival-gmbh.con", "anna@festival-gmbh.com"),
        ("Anna.M@OUTLOK.COM", "Anna.M@outlook.com"),
    ],
)
def test_suggests_the_common_domain(typed, meant):
    assert suggest_email(typed) == meant


@pytest.mark.parametrize(
    "address", ["anna@gmail.com", "anna@web.de", "anna@company.co", "anna@example.org", "nonsense", ""]
)
def test_leaves_good_or_unknown_addresses_alone(address):
    assert suggest_email(address) is None
