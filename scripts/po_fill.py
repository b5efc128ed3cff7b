"""Fill empty French translations in django.po from the translation memory (campaignid/locale/fr.json).

Run after `makemessages --no-wrap` (see `make messages`); untranslated strings are listed so none is missed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "campaignid" / "locale"
ENTRY = re.compile(r'^msgid "(?P<id>(?:[^"\\]|\\.)*)"\n(?:msgid_plural "(?P<pl>(?:[^"\\]|\\.)*)"\n)?'
                   r'(?P<strs>(?:msgstr(?:\[\d\])? ".*"\n)+)', re.M)


def fill(po: Path, memory: dict[str, object]) -> list[str]:
    text, missing = po.read_text(encoding="utf-8"), []

    def repl(m: re.Match) -> str:
        msgid = m.group("id")
        if not msgid or 'msgstr ""' not in m.group("strs") and "msgstr[0] \"\"" not in m.group("strs"):
            return m.group(0)
        tr = memory.get(msgid)
        if tr is None:
            missing.append(msgid)
            return m.group(0)
        head = f'msgid "{msgid}"\n'
        if m.group("pl") is not None:
            one, many = tr if isinstance(tr, list) else (tr, tr)
            return head + f'msgid_plural "{m.group("pl")}"\nmsgstr[0] "{one}"\nmsgstr[1] "{many}"\n'
        return head + f'msgstr "{tr}"\n'

    po.write_text(ENTRY.sub(repl, text).replace("#, fuzzy\n", ""), encoding="utf-8")
    return missing


if __name__ == "__main__":
    mem = json.loads((ROOT / "fr.json").read_text(encoding="utf-8"))
    missing = fill(ROOT / "fr" / "LC_MESSAGES" / "django.po", mem)
    for m in missing:
        print("untranslated:", m)
    sys.exit(1 if missing and "--strict" in sys.argv else 0)
