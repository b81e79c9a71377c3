"""Inbound keywords (DESIGN.md §6): text normalisation and the multilingual STOP/START/HELP
tables.

Matching ignores case, accents and the punctuation around words, so "Stop!", "stop" and
"ＳＴＯＰ" are the same command, and "Leiratkozás" matches "LEIRATKOZAS" (people often type
without accents). A message is a command only when its whole text is a command phrase
(optionally followed by one program keyword on a shared short code, "STOP PIZZA"): "stop by
the shop tomorrow" is a conversation, not an opt-out. Carrier practice (CTIA Messaging
Principles §5 for the English words; 退订/TD as Chinese operators print them in every
marketing message).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MAX_KEYWORD_CHARS = 40


class Intent(StrEnum):
    """What a command message asks for."""

    OPT_OUT = "optout"
    OPT_IN = "optin"
    HELP = "help"


# Per language; entries are normalised when the table is built, so accents and case here are
# only for the reader. English words are understood whatever the language of the account.
STOP_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPTOUT",
        "OPT-OUT",
        "OPT OUT",
        "REVOKE",
    ),
    "bg": ("СТОП", "ОТПИСВАНЕ", "ОТПИШИ", "ОТКАЗ"),
    "hu": ("LEIRATKOZÁS", "LEIRATKOZOM", "STOP"),
    "zh": ("退订", "TD", "退定", "取消订阅", "退出"),
    "de": ("STOPP", "ABMELDEN", "ABBESTELLEN", "KÜNDIGEN"),
    "fr": ("ARRÊT", "ARRETER", "DÉSABONNER", "DÉSINSCRIRE", "DÉSINSCRIPTION"),
    "es": ("BAJA", "PARAR", "CANCELAR", "DETENER", "ALTO"),
    "it": ("BASTA", "CANCELLA", "DISISCRIVI", "ANNULLA", "FERMA"),
    "pt": ("SAIR", "PARAR", "CANCELAR", "DESCADASTRAR", "REMOVER"),
    "ru": ("СТОП", "ОТПИСАТЬСЯ", "ОТПИСКА", "ОТМЕНА", "ХВАТИТ"),
}

START_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("START", "YES", "UNSTOP", "SUBSCRIBE", "OPTIN", "OPT-IN", "OPT IN"),
    "bg": ("СТАРТ", "ДА", "АБОНИРАНЕ", "ЗАПИШИ"),
    "hu": ("FELIRATKOZÁS", "IGEN", "START"),
    "zh": ("订阅", "开始", "恢复"),
    "de": ("ANMELDEN", "JA", "START"),
    "fr": ("OUI", "ABONNER", "COMMENCER", "REPRENDRE"),
    "es": ("ALTA", "SÍ", "COMENZAR", "SUSCRIBIR"),
    "it": ("SÌ", "ISCRIVI", "INIZIA", "RIPRENDI"),
    "pt": ("SIM", "COMEÇAR", "INICIAR", "VOLTAR"),
    "ru": ("СТАРТ", "ДА", "ПОДПИСАТЬСЯ", "ВОЗОБНОВИТЬ"),
}

HELP_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("HELP", "INFO"),
    "bg": ("ПОМОЩ", "ИНФО"),
    "hu": ("SEGÍTSÉG", "SÚGÓ", "INFO"),
    "zh": ("帮助", "客服", "幫助"),
    "de": ("HILFE", "INFO"),
    "fr": ("AIDE", "INFO"),
    "es": ("AYUDA", "INFO"),
    "it": ("AIUTO", "INFO"),
    "pt": ("AJUDA", "INFO"),
    "ru": ("ПОМОЩЬ", "СПРАВКА", "ИНФО"),
}

LANGUAGES = ("en", "bg", "hu", "zh", "de", "fr", "es", "it", "pt", "ru")


def _strip_word(word: str) -> str:
    # Unicode categories P* (punctuation) and S* (symbols, emoji) around a word are noise.
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(word[end - 1])[0] in "PS":
        end -= 1
    return word[start:end]


def normalize(text: str) -> str:
    """Compatibility-decompose (full-width letters become ASCII), drop accents, casefold,
    trim punctuation around each word and collapse whitespace."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    words = (_strip_word(w) for w in bare.casefold().split())
    return " ".join(w for w in words if w)


def first_word(text: str) -> str:
    """The normalised first word ("" for an empty or punctuation-only text)."""
    words = normalize(text).split(" ", 1)
    return words[0]


def _table(source: dict[str, tuple[str, ...]]) -> frozenset[str]:
    return frozenset(normalize(w) for words in source.values() for w in words)


_STOP = _table(STOP_WORDS)
_START = _table(START_WORDS)
_HELP = _table(HELP_WORDS)
# Opting out wins when a word is in two tables: a person who wrote it may have meant stop.
_INTENTS: tuple[tuple[Intent, frozenset[str]], ...] = (
    (Intent.OPT_OUT, _STOP),
    (Intent.OPT_IN, _START - _STOP),
    (Intent.HELP, _HELP - _STOP - _START),
)


@dataclass(frozen=True, slots=True)
class Command:
    """A recognised command: its intent, the phrase as normalised, and the program keyword
    that followed it ("" when none), e.g. "STOP PIZZA" → (OPT_OUT, "stop", "pizza")."""

    intent: Intent
    phrase: str
    program: str = ""


def intent_of(phrase: str) -> Intent | None:
    """The intent of a normalised phrase, if it is a command phrase."""
    for intent, words in _INTENTS:
        if phrase in words:
            return intent
    return None


def parse_command(text: str) -> Command | None:
    """The command a whole message is, if any: a command phrase alone, or followed by one
    word (a program keyword on a shared short code)."""
    norm = normalize(text)
    if not norm:
        return None
    intent = intent_of(norm)
    if intent is not None:
        return Command(intent, norm)
    head, _, program = norm.rpartition(" ")
    if head and " " not in program:
        intent = intent_of(head)
        if intent is not None:
            return Command(intent, head, program)
    return None


def check_keyword(raw: str) -> str:
    """The normalised form of a rule's keyword; raises ValueError when it is not one word."""
    norm = normalize(raw)
    if not norm or " " in norm:
        raise ValueError("a keyword is one word")
    if len(norm) > MAX_KEYWORD_CHARS:
        raise ValueError(f"a keyword has at most {MAX_KEYWORD_CHARS} characters")
    return norm


_PLACEHOLDER = re.compile(r"\{(from|text|keyword)\}")


def render(template: str, *, sender: str, text: str, keyword: str) -> str:
    """A reply text with `{from}`, `{text}` and `{keyword}` filled in (in one pass, so a
    placeholder inside the sender's text stays as written); other braces stay."""
    values = {"from": sender, "text": text, "keyword": keyword}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
