"""What a user reads on a rendered page, and the untranslated or raw strings in it.

``visible_text`` keeps the text nodes and the attributes a user sees or hears (title, aria-label,
placeholder, alt, button values), not scripts, styles, technical ``<code>`` samples or words marked as
another language (``<option lang="en">English</option>``). ``untranslated``
finds, in a French page, English msgids of the catalogue whose French translation differs, internal codes
(``no_recipient``, ``google_wallet``) and raw ``key=value`` details."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser

from django.utils import translation

SKIPPED = {"script", "style", "code", "kbd", "samp", "pre", "textarea", "template"}
SPOKEN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
RAW_DETAIL = re.compile(r"\b[a-z]+(?:_[a-z]+)*=\S+|\b(?:True|False|None)\b")
MONTH_FIRST = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}"
                         r"|\b\d{1,2}/\d{1,2}/\d{4}\b")


class _Text(HTMLParser):
    def __init__(self, samples: bool):
        super().__init__(convert_charrefs=True)
        self.samples = samples
        self.parts: list[str] = []
        self.skipping: list[str] = []
        self.language = ""

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name in SPOKEN_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])
        if tag == "html":
            self.language = values.get("lang", "")
        elif (tag in SKIPPED and not (self.samples and tag == "code")
              or values.get("lang", self.language) != self.language):
            self.skipping.append(tag)  # technical samples, and words deliberately in another language

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self.skipping:
            self.parts.append(text)


def visible_text(html: str, samples: bool = False) -> list[str]:
    """The texts a user reads; with ``samples``, the ``<code>`` samples too (a code is still no label)."""
    parser = _Text(samples)
    parser.feed(html)
    return parser.parts


@cache
def _english_only() -> tuple[re.Pattern, re.Pattern]:
    """Two patterns over the French catalogue's msgids that French changes: phrases (two words or more,
    placeholders as wildcards) anywhere in a text, and single words as the whole text."""
    catalogue = translation.trans_real.translation("fr")._catalog
    phrases, words = set(), set()
    for msgid, msgstr in catalogue.items():
        if not isinstance(msgid, str) or not msgid or msgid == msgstr or not re.search("[a-z]{3}", msgid):
            continue
        literal = [p.strip() for p in PLACEHOLDER.split(msgid) if p.strip()]
        longest = max(literal, key=len, default="")
        if len(longest.split()) >= 2:
            phrases.add(r"\s*\S*\s*".join(re.escape(p) for p in literal))
        elif len(literal) == 1 and literal[0] == msgid:
            words.add(re.escape(msgid))
    by_length = sorted(phrases, key=len, reverse=True)
    return (re.compile(r"(?<!\w)(?:" + "|".join(by_length) + r")(?!\w)"),
            re.compile("(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")[\s:.]*"))


def untranslated(texts: list[str], codes: set[str], samples: tuple[str, ...] = ()) -> list[str]:
    """The texts of a French page that are English, raw codes or raw details (``samples``: its ``<code>``
    texts, where only raw codes count)."""
    phrases, words = _english_only()
    code_words = re.compile(r"(?<![\w/.-])(?:" + "|".join(sorted(map(re.escape, codes))) + r")(?![\w/.-])")
    found = []
    for text in texts:
        if phrases.search(text) or words.fullmatch(text) or code_words.search(text) or RAW_DETAIL.search(text):
            found.append(text)
    return found + [text for text in samples if code_words.search(text)]


def month_first_dates(texts: list[str]) -> list[str]:
    return [t for t in texts if MONTH_FIRST.search(t)]
