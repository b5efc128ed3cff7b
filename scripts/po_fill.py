"""Apply the French translation memory (campaignid/locale/fr.json) to django.po after `makemessages`.

Every msgid found in the memory gets the memory's translation, replacing empty entries and msgmerge's
near-miss ("fuzzy") guesses, whose fuzzy flag is dropped. Untranslated strings are listed so none is missed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "campaignid" / "locale"
BLOCK_SPLIT = re.compile(r"\n\n+")
MSGID = re.compile(r'^msgid "((?:[^"\\]|\\.)*)"$', re.M)
PLURAL = re.compile(r'^msgid_plural "((?:[^"\\]|\\.)*)"$', re.M)


def _flags_without_fuzzy(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if line.startswith("#,"):
            flags = [f.strip() for f in line[2:].split(",") if f.strip() and f.strip() != "fuzzy"]
            if flags:
                out.append("#, " + ", ".join(flags))
            continue
        if not line.startswith("#| "):  # previous-msgid lines only describe a fuzzy guess
            out.append(line)
    return out


def fill_block(block: str, memory: dict) -> tuple[str, str | None]:
    """The block with the memory's translation applied, and its msgid when the memory lacks it."""
    found = MSGID.search(block)
    if not found or not found.group(1):
        return block, None
    msgid = found.group(1)
    comments = [line for line in block.splitlines() if line.startswith("#")]
    if msgid not in memory:
        untranslated = re.search(r'^msgstr(\[0\])? ""$', block, re.M) or "#, fuzzy" in block
        return block, msgid if untranslated else None
    tr = memory[msgid]
    lines = _flags_without_fuzzy(comments) + [f'msgid "{msgid}"']
    plural = PLURAL.search(block)
    if plural:
        one, many = tr if isinstance(tr, list) else (tr, tr)
        lines += [f'msgid_plural "{plural.group(1)}"', f'msgstr[0] "{one}"', f'msgstr[1] "{many}"']
    else:
        lines.append(f'msgstr "{tr}"')
    return "\n".join(lines), None


def fill(po: Path, memory: dict) -> list[str]:
    blocks = BLOCK_SPLIT.split(po.read_text(encoding="utf-8").strip("\n"))
    out, missing = [], []
    for block in blocks:
        new, miss = fill_block(block, memory)
        out.append(new)
        if miss:
            missing.append(miss)
    po.write_text("\n\n".join(out) + "\n", encoding="utf-8")
    return missing


if __name__ == "__main__":
    memory = json.loads((ROOT / "fr.json").read_text(encoding="utf-8"))
    missing = fill(ROOT / "fr" / "LC_MESSAGES" / "django.po", memory)
    for msgid in missing:
        print("untranslated:", msgid)
    sys.exit(1 if missing and "--strict" in sys.argv else 0)
