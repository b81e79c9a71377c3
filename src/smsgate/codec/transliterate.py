"""Opt-in replacement of look-alike characters so that a text can stay in GSM-7.

Only typographic variants with an obvious GSM equivalent are replaced (curly quotes,
dashes, ellipsis, exotic spaces, invisible format characters, Greek capitals that look like
Latin ones as TS 23.038 §6.2.1 itself suggests). Letters with accents are left alone: that
would change words, and the caller can always fall back to UCS-2.
"""

from __future__ import annotations

__all__ = ["TRANSLITERATIONS", "transliterate"]

_SPACES = (
    "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t"
)
# Soft hyphen, zero-width space/non-joiner/joiner, word joiner, BOM, LRM/RLM: invisible.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u200e\u200f"

TRANSLITERATIONS: dict[str, str] = {
    **dict.fromkeys("‘’‚‛′‹›`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys(_SPACES, " "),
    **dict.fromkeys(_INVISIBLE, ""),
    "…": "...",
    "•": "-",
    "\u2028": "\n",
    "\u2029": "\n",
    # Greek capitals missing from the GSM table have Latin look-alikes (TS 23.038 §6.2.1 note).
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
}
"""Replacement of each look-alike character."""

_TABLE = {ord(k): v for k, v in TRANSLITERATIONS.items()}


def transliterate(text: str) -> str:
    """Replace look-alike characters by GSM-7 ones; other characters are kept as they are."""
    return text.translate(_TABLE)
