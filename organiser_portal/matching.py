"""Names as people type them: one folding rule for what is stored and what is searched.

`name_key("José  Ramírez")` == `name_key("jose ramirez")` == "jose ramirez": the stored `name_key` columns
of orders and customer accounts are written with it (Order / Customer `refresh_search_keys`), and the search
folds what is typed with the very same function, so the database compares plain strings and needs no
`unaccent` or collation of its own (PostgreSQL and SQLite alike).
"""

from __future__ import annotations

import re
import unicodedata

# Letters that carry no combining mark to drop, folded the way a German, Scandinavian, Polish, Croatian,
# French or Icelandic speaker spells them on a keyboard without them (after casefold: ß is "ss" already).
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ı": "i",  # Turkish dotless i
        "ħ": "h",
        "ŧ": "t",
        "ŀ": "l",
        # Apostrophes and hyphens as typed on phones and in word processors: one of each, so "O’Brien"
        # meets "O'Brien" and a non-breaking hyphen an ordinary one.
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2212": "-",
    }
)
# The kana voicing marks (゛ ゜) are combining marks too, but が is not か: they stay, and NFC puts them back.
_KEEP_MARKS = frozenset("\u3099\u309a")

# Scripts written without spaces between a family name and a given name: Han, Hangul and Kana
# (unicodedata names no scripts; these are the Unicode blocks that hold their letters).
_CJK_RANGES = (
    "\u1100-\u11ff"  # Hangul Jamo
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3130-\u318f"  # Hangul compatibility Jamo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK unified ideographs extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # halfwidth Katakana (NFKC makes them fullwidth anyway)
    "\U00020000-\U0003134f"  # CJK unified ideographs extensions B–G
)
_CJK_RUN = re.compile(f"[{_CJK_RANGES}]{{3,}}")
_CJK_CHAR = re.compile(f"[{_CJK_RANGES}]")

# The most search text searched: a name, an email address, a phone number or a code fits many times. Longer
# text cost seconds (3,600 characters of "a b " took 3.8 s at a million orders), for nothing a person types.
QUERY_MAX_CHARS = 200
QUERY_MAX_WORDS = 10
MIN_QUERY = 3  # letters: fewer match too much of an alphabetic script to be worth a search
MIN_QUERY_CJK = 2  # a Chinese name or a Korean given name is often two characters: 王芳, 민준


# Invisible characters a name pasted from elsewhere carries: a zero-width space separates words, the other
# format characters (soft hyphen, joiners, direction marks, byte-order mark: Unicode category Cf) are dropped.
_ZERO_WIDTH_SPACES = str.maketrans({"\u200b": " ", "\u2060": " "})


def fold(text: str) -> str:
    """`text` compatibility-normalised (NFKC), case-folded, accents and special letters folded to the plain
    letters a keyboard without them gives, invisible format characters removed (a zero-width space read as a
    space), in NFC, whitespace collapsed to single spaces."""
    text = text.translate(_ZERO_WIDTH_SPACES)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if c in _KEEP_MARKS or not unicodedata.combining(c))
    # Folding again: a mark dropped can leave a letter the table maps (rare), and NFKD may uncover one.
    return " ".join(unicodedata.normalize("NFC", plain.translate(_LETTERS)).split())


def name_key(text: str) -> str:
    """A name as it is stored for matching and as a query is compared with it.

    `fold(text)`, then for every run of three or more Han, Hangul or Kana characters its overlapping
    two-character pieces as extra words, so that a given name inside a name written without a space is a
    word of its own: "김민준" → "김민준 김민 민준", "Anna Müller" → "anna muller". A word with an apostrophe
    also gets its spelling without it, as people type it: "O'Brien-D'Arcy" → "o'brien-d'arcy obrien-darcy"
    (PostgreSQL's text search splits "o'brien" into "o" and "brien", and hyphenated words into their parts,
    so "OBrien", "Darcy", "O'Brien" and "O Brien" all meet it). Idempotent: the extra words make no new ones.
    """
    folded = fold(text)
    words = folded.split()
    seen = set(words)
    extra = []
    for word in words:
        joined = word.replace("'", "")
        if joined != word and joined.strip("-") and joined not in seen:
            seen.add(joined)
            extra.append(joined)
    for run in _CJK_RUN.findall(folded):
        for i in range(len(run) - 1):
            piece = run[i : i + 2]
            if piece not in seen:
                seen.add(piece)
                extra.append(piece)
    return " ".join([*words, *extra])


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def min_query_length(text: str) -> int:
    """The fewest characters (spaces aside) a name search needs: 2 when `text` holds a Han, Hangul or Kana
    character (two of them are a whole name), otherwise 3."""
    return MIN_QUERY_CJK if has_cjk(text) else MIN_QUERY


def long_enough(text: str) -> bool:
    """Whether `text` (as typed) is long enough for a name search in its script (see min_query_length)."""
    return len("".join(text.split())) >= min_query_length(text)


def clipped_query(text: str) -> tuple[str, bool]:
    """The search text as it is searched, and whether some of it was left out: runs of whitespace as one
    space, then at most QUERY_MAX_WORDS words and QUERY_MAX_CHARS characters.
    `clipped_query("  Anna   Müller ")` is `("Anna Müller", False)`."""
    words = text.split()
    clipped = " ".join(words[:QUERY_MAX_WORDS])[:QUERY_MAX_CHARS].rstrip()
    return clipped, clipped != " ".join(words)


def clipped_notice(*, clipped: bool) -> str:
    """What the page says when clipped_query left something out ('' when it didn't)."""
    if not clipped:
        return ""
    return (
        f"The search text is limited to {QUERY_MAX_WORDS} words and {QUERY_MAX_CHARS} characters: the start was "
        "searched. Search a name, email address, phone number, order code or ticket ID."
    )
