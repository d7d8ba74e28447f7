"""The search: each kind of query people type, the order it must find worked out in plain SQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from organiser_portal.matching import fold

from .common import Ctx, Result, Wrong, _expect_codes, _sql, _text, _timed_pages, _url
from .seed_pools import SURNAMES


def _search_url(ctx: Ctx, q: str) -> str:
    return _url("search", org=ctx.org.slug) + "?" + urlencode({"q": q})


def _expect_redirect(code: str, label: str) -> Callable[[Any], None]:
    def check(response) -> None:
        if response.status_code == 302:
            if not response["Location"].rstrip("/").endswith(f"/orders/{code}"):
                raise Wrong(f"search {label} jumped to {response['Location']}, expected order {code}")
            return
        if response.status_code != 200 or code not in _text(response):
            raise Wrong(f"search {label}: expected order {code}")

    return check


def _expect_text(needle: str, at_least: int, label: str) -> Callable[[Any], None]:
    def check(response) -> None:
        if response.status_code != 200:
            raise Wrong(f"search {label}: HTTP {response.status_code}")
        found = _text(response).lower().count(needle.lower())
        if found < at_least:
            raise Wrong(f"search {label}: {needle!r} shown {found} times, expected at least {at_least}")

    return check


def _sample_orders(ctx: Ctx, n: int, where: str = "TRUE", params: tuple = ()) -> list[tuple]:
    """Seeded sample of (id, code, contact_name, contact_email, contact_phone) spread over the table."""
    (max_id,) = _sql("SELECT max(id) FROM orders_order WHERE organisation_id = %s", [ctx.org.pk])[0]
    rows: list[tuple] = []
    for _ in range(n * 4):
        got = _sql(
            f"SELECT id, code, contact_name, contact_email, contact_phone FROM orders_order "
            f"WHERE organisation_id = %s AND id >= %s AND {where} ORDER BY id LIMIT 1",
            [ctx.org.pk, ctx.rng.randint(1, max_id), *params],
        )
        if got and got[0] not in rows:
            rows.append(got[0])
        if len(rows) >= n:
            break
    return rows


def _search_targets(ctx: Ctx, kind: str, n: int = 10) -> list[tuple[str, Callable[[Any], None]]]:
    """(url, check) pairs for one kind of search, with the answers worked out in plain SQL."""
    org = ctx.org.pk
    out: list[tuple[str, Callable[[Any], None]]] = []
    if kind == "order code":
        for _, code, *_ in _sample_orders(ctx, n):
            out.append((_search_url(ctx, code), _expect_redirect(code, kind)))
    elif kind == "ticket ID":
        for _, code, *_ in _sample_orders(ctx, n, "status = 'paid'"):
            (tid,) = _sql(
                "SELECT public_id FROM tickets_ticket WHERE order_id = (SELECT id FROM orders_order WHERE organisation_id = %s AND code = %s) ORDER BY id LIMIT 1",
                [org, code],
            )[0]
            out.append((_search_url(ctx, tid.lower() if ctx.rng.random() < 0.3 else tid), _expect_redirect(code, kind)))
    elif kind == "exact email":
        for _, _, _, email, _ in _sample_orders(ctx, n * 3):
            codes = [
                c
                for (c,) in _sql(
                    "SELECT code FROM orders_order WHERE organisation_id = %s AND lower(contact_email) = lower(%s) ORDER BY created_at DESC, id DESC",
                    [org, email],
                )
            ]
            if len(codes) <= 10:
                out.append(
                    (_search_url(ctx, email.upper() if ctx.rng.random() < 0.2 else email), _expect_codes(codes, kind))
                )
    elif kind == "email fragment":
        for _, _, _, email, _ in _sample_orders(ctx, n * 4):
            local = email.split("@")[0]
            frag = local[1:] + "@"  # what someone types who lost the first letter: "nna.weber37@"
            if len(frag) < 6:
                continue
            codes = [
                c
                for (c,) in _sql(
                    "SELECT code FROM orders_order WHERE organisation_id = %s AND UPPER(contact_email) LIKE UPPER(%s) ORDER BY created_at DESC, id DESC",
                    [org, f"%{frag}%"],
                )
            ]
            if 0 < len(codes) <= 10:
                out.append((_search_url(ctx, frag), _expect_codes(codes, kind)))
    elif kind == "phone":
        # Stored as "+4915123456789", typed spaced: the query of issue 5's row, now also an E.164 lookup.
        for _, _, _, _, phone in _sample_orders(ctx, n * 3, "contact_phone ~ '^[+][0-9]+$'"):
            codes = [
                c
                for (c,) in _sql(
                    "SELECT code FROM orders_order WHERE organisation_id = %s AND contact_phone = %s ORDER BY created_at DESC, id DESC",
                    [org, phone],
                )
            ]
            if len(codes) <= 10:
                typed = f"{phone[:3]} {phone[3:6]} {phone[6:]}"  # "+49 151 23456789", as people type it
                out.append((_search_url(ctx, typed), _expect_codes(codes, kind)))
    elif kind == "surname":
        for _, _, name, _, _ in _sample_orders(ctx, n):
            surname = name.split()[-1]
            out.append((_search_url(ctx, surname), _expect_text(surname, 3, kind)))
    elif kind == "full name":
        for _, code, name, _, _ in _sample_orders(ctx, n):
            ((count,),) = _sql(
                "SELECT count(*) FROM orders_order WHERE organisation_id = %s AND UPPER(contact_name) LIKE UPPER(%s)",
                [org, f"%{name}%"],
            )
            # A rare name: that very order is on the first page. A common one: the page lists people of that name.
            check = _expect_codes([code], kind) if count <= 10 else _expect_text(name, 3, kind)
            out.append((_search_url(ctx, name), check))
    elif kind == "misspelt surname":
        for _, _, name, _, _ in _sample_orders(ctx, n * 3):
            surname = name.split()[-1]
            if len(surname) < 7:  # shorter names lose too many trigrams to one typo for any similarity search
                continue
            i = ctx.rng.randint(2, len(surname) - 2)
            typo = surname[:i] + surname[i + 1 :]  # one letter dropped: "Schneier" for "Schneider"
            # "Hofmann" for "Hoffmann" is another real name, not a typo; "Schmit" for "Schmidt" is how
            # "Schmitt" begins, and the search reads the last word typed as a beginning.
            if any(fold(other).startswith(fold(typo)) for other in SURNAMES):
                continue
            out.append((_search_url(ctx, typo), _expect_text(surname, 1, kind)))
    else:
        out = _issue_11_targets(ctx, kind, n)
    if not out:
        raise Wrong(f"no sample for search by {kind}")
    return out[:n]


# The national significant number of a stored German mobile number in any spelling, in plain SQL: "(0)"
# and non-digits out, then the country code or trunk prefix. The answer the E.164 columns must agree with.
_NSN = "regexp_replace(regexp_replace(replace(contact_phone, '(0)', ''), '[^0-9]', '', 'g'), '^(0049|49|0)', '')"
_CJK = r"contact_name ~ '[\uac00-\ud7a3\u4e00-\u9fff]'"  # Hangul syllables, CJK ideographs
_ACCENTED = r"(contact_name ~ '[\u00c0-\u017e]' OR contact_name ~ '[\u0300-\u036f]')"  # precomposed or decomposed


def _issue_11_targets(ctx: Ctx, kind: str, n: int) -> list[tuple[str, Callable[[Any], None]]]:
    """Issue 11's searches: a phone typed in another spelling than stored, a name typed without its
    accents, a two-character name in Han or Hangul."""
    org = ctx.org.pk
    out: list[tuple[str, Callable[[Any], None]]] = []
    if kind == "phone, other spelling":
        for _, _, _, _, phone in _sample_orders(ctx, n * 3, "contact_phone <> ''"):
            nsn = re.sub(r"\D", "", phone.replace("(0)", ""))
            nsn = re.sub(r"^(0049|49|0)", "", nsn)
            codes = [
                c
                for (c,) in _sql(
                    f"SELECT code FROM orders_order WHERE organisation_id = %s AND {_NSN} = %s "
                    "ORDER BY created_at DESC, id DESC",
                    [org, nsn],
                )
            ]
            # Typed the other way round: national when stored international, and the reverse.
            typed = f"0{nsn[:3]} {nsn[3:]}" if phone.startswith(("+", "00")) else f"+49 {nsn[:3]} {nsn[3:]}"
            if 0 < len(codes) <= 10:
                out.append((_search_url(ctx, typed), _expect_codes(codes, kind)))
    elif kind == "name without accents":
        for _, _, name, _, _ in _sample_orders(ctx, n * 3, _ACCENTED):
            plain = fold(name).title()  # "Jurgen Schroder" for Jürgen Schröder
            out.append((_search_url(ctx, plain), _expect_text(name, 1, kind)))
    elif kind == "two-character name":
        for _, _, name, _, _ in _sample_orders(ctx, n * 3, _CJK):
            word = name.replace(" ", "")
            typed = word[-2:] if len(word) == 3 else word  # 김민준 → 민준 (the given name), 王芳 as it is
            if len(typed) == 2:
                out.append((_search_url(ctx, typed), _expect_text(typed, 3, kind)))
    return out[:n]


SEARCH_KINDS = (
    "exact email",
    "email fragment",
    "order code",
    "ticket ID",
    "phone",
    "surname",
    "full name",
    "misspelt surname",
    "phone, other spelling",
    "name without accents",
    "two-character name",
)


# 200 requests per kind (20 per sampled query): with 40, the p95 was the second-slowest request, and one
# scheduler pause on a busy two-core machine failed a kind whose median is 10 ms (bench/NOTES.md, issue 11).
def bench_search(ctx: Ctx, *, iterations: int = 200) -> list[Result]:
    _url("search", org=ctx.org.slug)
    return _timed_pages(ctx, "search", SEARCH_KINDS, _search_targets, 25, iterations)
