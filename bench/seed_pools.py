"""What the scale data is made of: pools of names, mail domains, events and ticket types with their
weights, and the people drawn from them. All draws go through one seeded `random.Random`."""

from __future__ import annotations

import bisect
import itertools
import random
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from organiser_portal.matching import name_key
from organiser_portal.phones import phone_e164


def _pool(words: str) -> tuple[str, ...]:
    return tuple(words.split())


FIRST_NAMES = _pool(
    "Anna Maria Lena Laura Julia Sarah Lisa Hannah Lea Sophie Emma Mia Marie Johanna Katharina Clara Sophia Paula "
    "Charlotte Emilia Nele Lina Amelie Jana Carla Greta Helena Frieda Ida Lotta Nina Sandra Sabine Petra Claudia "
    "Susanne Andrea Nicole Stefanie Kerstin Monika Ursula Birgit Heike Tanja Ines Jessica Vanessa Chiara Elif Zeynep "
    "Ayşe Fatma Olga Natalia Agnieszka Giulia Francesca Lucía Camille Chloé Ingrid Astrid Freya Maja "
    "Lukas Leon Jonas Felix Paul Maximilian Luca Tim Finn Elias Noah Ben Jan Niklas David Moritz Julian Tobias "
    "Alexander Simon Philipp Florian Sebastian Daniel Michael Thomas Andreas Stefan Christian Markus Martin Frank "
    "Jürgen Klaus Peter Wolfgang Uwe Matthias Oliver Dennis Sven Jens Kai Mehmet Mustafa Ahmet Ali Emre Piotr "
    "Tomasz Marco Luca Giuseppe Pablo Javier Mateo Louis Hugo Lars Erik Björn Søren Liam Oscar Jack Ethan Noel René"
)
SURNAMES = _pool(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein "
    "Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Schmitz Krause "
    "Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz "
    "Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann "
    "Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer "
    "Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch "
    "Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Yılmaz Kaya Demir Şahin Çelik Yıldız Öztürk Aydın Kowalski "
    "Nowak Wiśniewski Wójcik Kowalczyk Kamińska Lewandowski Rossi Russo Ferrari Esposito Bianchi Romano Colombo "
    "García Fernández González Rodríguez López Martínez Sánchez Pérez Dubois Lefebvre Moreau Laurent Girard "
    "Jansen Vos Dekker Bakker Visser Smith Jones Williams Brown Taylor Wilson Johnson Andersson Johansson "
    "Nielsen Hansen Larsen Novák Horváth Popescu Ivanova Petrov Nguyen Tran Kim Park Chen Wang Li Zhang Ahmed Khan "
    "Silva Santos Oliveira Pereira Costa Papadopoulos Berisha Hodžić Kovačević Brenner Achterberg Quast Zander "
    "Thalheim Ostermann Wiegand Rademacher Leuschner Brinkmann Overbeck Ebeling Kastner Mertens Husmann Steinke"
)
# Shared mail domains with realistic weights, and the typos people really make.
DOMAINS = (
    ("gmail.com", 30),
    ("web.de", 16),
    ("gmx.de", 14),
    ("gmx.net", 5),
    ("t-online.de", 6),
    ("outlook.com", 5),
    ("hotmail.com", 5),
    ("yahoo.com", 3),
    ("icloud.com", 4),
    ("posteo.de", 1),
    ("mailbox.org", 1),
    ("freenet.de", 2),
    ("aol.com", 1),
    ("proton.me", 1),
    ("uni-hamburg.de", 1),
    ("siemens.com", 1),
    ("sap.com", 1),
    ("example-agentur.de", 1),
)
TYPO_DOMAINS = {
    "gmail.com": ("gmial.com", "gmai.com", "gmail.con", "gamil.com"),
    "web.de": ("wed.de", "web.d", "weeb.de"),
    "gmx.de": ("gmx.d", "gmc.de"),
    "hotmail.com": ("hotmial.com", "hotmail.con"),
    "yahoo.com": ("yaho.com",),
    "outlook.com": ("outlok.com",),
    "t-online.de": ("t-onlien.de", "tonline.de"),
}
TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "í": "i", "ó": "o", "á": "a", "ñ": "n"}
    | {"ş": "s", "ç": "c", "ı": "i", "ğ": "g", "ś": "s", "ń": "n", "ł": "l", "ó": "o", "ø": "o", "å": "a"}
    | {"č": "c", "ć": "c", "ž": "z", "š": "s", "ğ": "g", " ": "", "'": ""}
)
# Buyers whose names are written in Han, Hangul or Kana, with the Latin spelling their email addresses
# use: (name as written, given name, family name). Chinese names of two characters; Korean ones of three,
# family name first, so the given name (민준) is inside the written name (김민준, 최민준).
CJK_PEOPLE = (
    *(("王芳", "fang", "wang"), ("李娜", "na", "li"), ("张伟", "wei", "zhang"), ("刘洋", "yang", "liu")),
    *(("陈静", "jing", "chen"), ("杨帆", "fan", "yang"), ("赵磊", "lei", "zhao"), ("黄敏", "min", "huang")),
    *(("王秀英", "xiuying", "wang"), ("李建华", "jianhua", "li"), ("张丽娟", "lijuan", "zhang")),
    *(("김민준", "minjun", "kim"), ("최민준", "minjun", "choi"), ("이서연", "seoyeon", "lee")),
    *(("박지훈", "jihun", "park"), ("정수빈", "subin", "jung"), ("강민서", "minseo", "kang")),
    *(("윤서준", "seojun", "yoon"), ("한지민", "jimin", "han"), ("佐藤 花子", "hanako", "sato")),
    *(("鈴木 一郎", "ichiro", "suzuki"), ("たなか ゆき", "yuki", "tanaka")),
)
CJK_SHARE = 0.02  # of the people drawn
DECOMPOSED_SHARE = 0.15  # of names with an accent: stored decomposed (NFD), as some shops and phones send them
# How people write the same mobile number (+49 151 2345678 here), by weight.
PHONE_SPELLINGS: tuple[tuple[Callable[[str, str], str], int], ...] = (
    (lambda p, n: f"+49{p}{n}", 4),
    (lambda p, n: f"+49 {p} {n}", 3),
    (lambda p, n: f"0{p}{n}", 2),
    (lambda p, n: f"0{p} {n}", 3),
    (lambda p, n: f"0{p}-{n}", 1),
    (lambda p, n: f"0{p}/{n}", 1),
    (lambda p, n: f"(0{p}) {n[:3]} {n[3:]}", 1),
    (lambda p, n: f"0049 {p} {n}", 1),
    (lambda p, n: f"+49 (0){p} {n}", 1),
)
MOBILE_PREFIXES = ("151", "152", "157", "159", "160", "162", "163", "170", "171", "172", "173", "175", "176", "177")
CITIES = ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Leipzig", "Dresden", "Bremen", "Hannover")
STREETS = ("Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Lindenweg", "Am Markt", "Bergstraße")

EVENT_NAMES = (
    "Elbufer Festival",
    "Nordlicht Open Air",
    "Rheinklang",
    "Spreewald Beats",
    "Harbour Jazz Nights",
    "Winter Lights Market",
    "Tech Summit Berlin",
    "Isar Sound",
    "Ostsee Surf & Sound",
    "Altstadt Comedy Week",
    "Klassik im Park",
    "Indie Days Leipzig",
    "Metal Meadow",
    "Kinderfest Sommer",
    "Food Truck Weekend",
    "Late Night Techno",
    "Lesefestival",
    "Chorfest",
    "Street Art Tour",
    "Silvester Gala",
)
# (name, price cents, fee cents, requires personal data, weight)
TICKET_TYPES = (
    ("Day ticket", 5900, 250, False, 45),
    ("Weekend pass", 14900, 350, False, 35),
    ("VIP weekend", 29900, 500, True, 8),
    ("Child ticket", 1900, 100, False, 12),
)
TAX_RATE = 19
QUANTITIES = ((1, 33), (2, 31), (3, 9), (4, 12), (5, 4), (6, 4), (8, 3), (10, 4))
ORDER_STATUSES = (
    ("paid", 860),
    ("refunded", 25),
    ("cancelled", 20),
    ("expired", 80),
    ("reserved", 5),
    ("processing_payment", 5),
    ("confirming_payment", 5),
)
TICKET_EMAIL_OUTCOMES = (
    ("delivered", 900),
    ("bounced", 35),
    ("deferred", 10),
    ("sent", 30),
    ("rejected", 5),
    ("failed", 3),
    ("complained", 2),
)
BOUNCE_REASONS = (
    "550 5.1.1 The email account that you tried to reach does not exist",
    "550 5.1.1 <{r}>: Recipient address rejected: User unknown",
    "552 5.2.2 Mailbox full",
)
TYPO_BOUNCE = "Domain not found: {d} has no mail server"
KIND_LABEL = {"tickets": "Tickets", "tickets_resend": "Tickets (resent)", "refund_notice": "Refund notice"}
KIND_LABEL["cancellation_notice"] = "Cancellation notice"
AREAS = (("Main entrance", ("Gate A1", "Gate A2", "Gate A3", "Gate B1", "Gate B2")), ("VIP area", ("VIP gate",)))


def _weighted(pairs) -> Callable[[random.Random], Any]:
    values = [v for v, _ in pairs]
    cum = list(itertools.accumulate(w for _, w in pairs))
    total = cum[-1]

    def pick(rng: random.Random) -> Any:
        return values[bisect.bisect_right(cum, rng.random() * total)]

    return pick


PICK_DOMAIN = _weighted(DOMAINS)
PICK_QTY = _weighted(QUANTITIES)
PICK_STATUS = _weighted(ORDER_STATUSES)
PICK_OUTCOME = _weighted(TICKET_EMAIL_OUTCOMES)
PICK_SPELLING = _weighted(PHONE_SPELLINGS)
PICK_TT = _weighted([(i, tt[4]) for i, tt in enumerate(TICKET_TYPES)])
# Surnames repeat the way they do in a population: a few very common, a long tail.
PICK_SURNAME = _weighted([(s, 1 / (i + 1) ** 0.85) for i, s in enumerate(SURNAMES)])


class People:
    """Names, emails and phones drawn from the pools; emails unique where they must be."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.customer_emails: set[str] = set()
        # The draws added in issue 11 (CJK names, decomposed names, phone spellings) come from a second
        # generator, seeded from the first one's state without drawing from it: the rest of the data set
        # stays what it was.
        self.variety = random.Random(repr(rng.getstate()[1][:8]))

    def name(self) -> tuple[str, str, str]:
        """(first name, last name, full name as stored): the first two in Latin letters, for the email."""
        if self.variety.random() < CJK_SHARE:
            written, given, family = self.variety.choice(CJK_PEOPLE)
            self.rng.choice(FIRST_NAMES), PICK_SURNAME(self.rng)  # the draws a Latin name makes
            return given, family, written
        first = self.rng.choice(FIRST_NAMES)
        last = PICK_SURNAME(self.rng)
        full = f"{first} {last}"
        if not full.isascii() and self.variety.random() < DECOMPOSED_SHARE:
            full = unicodedata.normalize("NFD", full)
        return first, last, full

    def email(self, first: str, last: str, typo_rate: float) -> str:
        rng = self.rng
        f, la = first.lower().translate(TRANSLIT), last.lower().translate(TRANSLIT)
        r = rng.random()
        if r < 0.35:
            local = f"{f}.{la}"
        elif r < 0.5:
            local = f"{f[0]}{la}"
        elif r < 0.65:
            local = f"{f}.{la}{rng.randint(1, 99)}"
        elif r < 0.75:
            local = f"{f}_{la}"
        elif r < 0.85:
            local = f"{la}.{f}"
        else:
            local = f"{f}{rng.randint(60, 2008)}"
        domain = PICK_DOMAIN(rng)
        if rng.random() < typo_rate and domain in TYPO_DOMAINS:
            domain = rng.choice(TYPO_DOMAINS[domain])
        return f"{local}@{domain}"

    def unique_customer_email(self, first: str, last: str) -> str:
        email = self.email(first, last, typo_rate=0.015)
        while email in self.customer_emails:
            local, domain = email.split("@")
            email = f"{local}{self.rng.randint(1, 999)}@{domain}"
        self.customer_emails.add(email)
        return email

    def phone(self) -> str:
        rng = self.rng
        prefix, number = rng.choice(MOBILE_PREFIXES), str(rng.randint(1000000, 99999999))
        return PICK_SPELLING(self.variety)(prefix, number)

    def address(self) -> str:
        rng = self.rng
        return f"{rng.choice(STREETS)} {rng.randint(1, 140)}, {rng.randint(10115, 99998)} {rng.choice(CITIES)}"


def fix_typo(email: str) -> str:
    local, domain = email.split("@")
    for good, typos in TYPO_DOMAINS.items():
        if domain in typos:
            return f"{local}@{good}"
    return email


def is_typo(email: str) -> bool:
    return fix_typo(email) != email


@lru_cache(maxsize=1_000_000)
def search_keys(name: str, phone: str, country: str) -> tuple[str, str]:
    """(name_key, phone in E.164) as the models write them (refresh_search_keys): the COPY rows carry them."""
    return name_key(name), phone_e164(phone, country) if phone else ""
