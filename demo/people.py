"""Realistic people for the demo: customer accounts, guest-checkout buyers and ticket holders (seeded Faker)."""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import datetime, timedelta

from django.db.models import Min
from faker import Faker

from guests.models import Customer
from orders.models import Order
from organiser_portal.models import Organisation

LOCALES = ("de_DE", "de_DE", "de_AT", "en_GB", "nl_NL", "fr_FR")
# Buyers who write their names in Han, Hangul or Kana (王芳, 김민준, 鈴木 晃), and a German mobile number.
CJK_LOCALES = ("zh_CN", "ko_KR", "ja_JP")
CJK_SHARE = 0.06
DECOMPOSED_SHARE = 0.2  # of accented names: stored decomposed (NFD), as some shops and phones send them
DOMAINS = ("gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.com", "yahoo.de", "icloud.com", "posteo.de")
# The mistakes people make typing their address; mail to these domains bounces.
TYPO_DOMAINS = ("gmial.com", "gmail.con", "gmx.dee", "hotmial.com", "web.dr", "outlok.com")
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def email_local_part(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name.translate(_TRANSLIT)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]+", ".", ascii_name.lower()).strip(".")


class People:
    def __init__(self, rng: random.Random, seed: int) -> None:
        self.rng = rng
        self.fakers = {}
        for i, locale in enumerate(sorted(set(LOCALES))):
            fake = Faker(locale)
            fake.seed_instance(seed + i)
            self.fakers[locale] = fake
        # Issue 11's variety (CJK and decomposed names) from generators of its own: the other people stay who they were.
        self.variety = random.Random(seed + 11)
        self.cjk_fakers = {locale: Faker(locale) for locale in CJK_LOCALES}
        for i, fake in enumerate(self.cjk_fakers.values()):
            fake.seed_instance(seed + 100 + i)
        self.customers: dict[int, list[Customer]] = {}
        self.emails: set[str] = set()

    def _fake(self) -> Faker:
        return self.fakers[self.rng.choice(LOCALES)]

    def _person(self, *, typo: bool = False) -> dict[str, str]:
        fake = self._fake()
        name = f"{fake.first_name()} {fake.last_name()}"
        local = email_local_part(name)
        if self.variety.random() < CJK_SHARE:
            cjk = self.cjk_fakers[self.variety.choice(CJK_LOCALES)]
            name, local = cjk.name(), cjk.user_name()
        elif not name.isascii() and self.variety.random() < DECOMPOSED_SHARE:
            name = unicodedata.normalize("NFD", name)
        if self.rng.random() < 0.3:
            local += str(self.rng.randint(1, 99))
        domain = self.rng.choice(TYPO_DOMAINS if typo else DOMAINS)
        email = f"{local}@{domain}"
        while email in self.emails:
            email = f"{local}{self.rng.randint(100, 999)}@{domain}"
        self.emails.add(email)
        return {
            "name": name,
            "email": email,
            "phone": fake.phone_number() if self.rng.random() < 0.7 else "",
            "address": fake.address(),
            "company": fake.company(),
            "job_title": fake.job(),
        }

    def make_customers(self, organisation: Organisation, *, count: int) -> list[Customer]:
        """Customer accounts; about 40 % confirmed their address (verified: only they may change it)."""
        rows = []
        for _ in range(count):
            person = self._person()
            rows.append(
                Customer(
                    organisation=organisation,
                    name=person["name"],
                    email=person["email"],
                    phone=person["phone"],
                    address=person["address"],
                    verified=self.rng.random() < 0.4,
                )
            )
        customers = Customer.objects.bulk_create(rows)
        self.customers[organisation.pk] = customers
        return customers

    def date_accounts(self, organisation: Organisation, *, now: datetime) -> None:
        """Give each account the day it was opened: some days to a year and a half before its first order (an
        account is never younger than its orders), or within the last year for one without orders. Drawn from a
        generator of its own, so the rest of the demo stays as it was."""
        rng = random.Random(f"accounts-{organisation.slug}")
        first = dict(
            Order.objects.filter(organisation=organisation, customer__isnull=False)
            .values("customer")
            .annotate(first=Min("created_at"))
            .values_list("customer", "first")
        )
        customers = list(Customer.objects.filter(organisation=organisation).order_by("pk"))
        for customer in customers:
            start = first.get(customer.pk, now)
            customer.created_at = start - timedelta(days=rng.randint(1, 540), minutes=rng.randint(0, 1439))
        Customer.objects.bulk_update(customers, ["created_at"])

    def contact(self, organisation: Organisation, *, typo: bool = False) -> dict:
        """The buyer of one order: about half are customer accounts, the rest guest checkout.

        A mistyped address only happens at guest checkout: a verified account's address works.
        """
        customers = self.customers.get(organisation.pk, [])
        if customers and not typo and self.rng.random() < 0.45:
            customer = self.rng.choice(customers)
            return {
                "customer": customer,
                "contact_name": customer.name,
                "contact_email": customer.email,
                "contact_phone": customer.phone,
                "address": customer.address,
            }
        person = self._person(typo=typo)
        return {"contact_name": person["name"], "contact_email": person["email"], "contact_phone": person["phone"]}

    def attendee(self, *, first: bool, order: Order) -> dict[str, str]:
        """Who holds a personalised ticket: usually the buyer for the first one, colleagues for the others."""
        if first and self.rng.random() < 0.7:
            person = self._person()
            return {**person, "name": order.contact_name, "email": order.contact_email}
        return self._person()

    def fixed_address(self, email: str) -> str:
        """The address the guest meant: the typo in the domain corrected."""
        local, _, domain = email.partition("@")
        fixes = {
            "gmial.com": "gmail.com",
            "gmail.con": "gmail.com",
            "gmx.dee": "gmx.de",
            "hotmial.com": "hotmail.com",
            "web.dr": "web.de",
            "outlok.com": "outlook.com",
        }
        return f"{local}@{fixes.get(domain, domain)}"

    def name(self) -> str:
        fake = self._fake()
        return f"{fake.first_name()} {fake.last_name()}"
