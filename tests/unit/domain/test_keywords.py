"""The pure keyword module: normalisation and the STOP/START/HELP tables of every language."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain.keywords import (
    HELP_WORDS,
    LANGUAGES,
    START_WORDS,
    STOP_WORDS,
    Command,
    Intent,
    check_keyword,
    first_word,
    intent_of,
    normalize,
    parse_command,
    render,
)

REQUIRED_STOP = (
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "СТОП",
    "ОТПИСВАНЕ",
    "LEIRATKOZÁS",
    "退订",
    "TD",
    "ABMELDEN",
    "DÉSABONNER",
    "BAJA",
)


def test_every_listed_language_has_all_three_tables() -> None:
    assert set(LANGUAGES) == {"en", "bg", "hu", "zh", "de", "fr", "es", "it", "pt", "ru"}
    for table in (STOP_WORDS, START_WORDS, HELP_WORDS):
        assert set(table) == set(LANGUAGES)
        assert all(table[lang] for lang in LANGUAGES)


@pytest.mark.parametrize("word", REQUIRED_STOP)
def test_the_issue_s_stop_words_opt_out(word: str) -> None:
    assert parse_command(word) == Command(Intent.OPT_OUT, normalize(word))


@pytest.mark.parametrize(
    ("table", "intent"),
    [(STOP_WORDS, Intent.OPT_OUT), (START_WORDS, Intent.OPT_IN), (HELP_WORDS, Intent.HELP)],
)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_word_of_every_language(
    table: dict[str, tuple[str, ...]], intent: Intent, lang: str
) -> None:
    for word in table[lang]:
        for variant in (word, word.lower(), f"  {word.title()}!!", f"«{word}»."):
            command = parse_command(variant)
            assert command is not None, variant
            # A word in two tables counts as STOP (the safe reading).
            expected = Intent.OPT_OUT if normalize(word) in _stop_set() else intent
            if intent is Intent.HELP and normalize(word) in _start_set():
                expected = Intent.OPT_IN
            assert command.intent is expected, variant


def _stop_set() -> set[str]:
    return {normalize(w) for words in STOP_WORDS.values() for w in words}


def _start_set() -> set[str]:
    return {normalize(w) for words in START_WORDS.values() for w in words}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("STOP", "stop"),
        ("  Stop!!! ", "stop"),
        ("ＳＴＯＰ", "stop"),  # full-width letters (NFKD)
        ("Leiratkozás", "leiratkozas"),
        ("LEIRATKOZAS", "leiratkozas"),
        ("Désabonner.", "desabonner"),
        ("KÜNDIGEN", "kundigen"),
        ("Straße", "strasse"),  # casefold
        ("СТОП", "стоп"),
        ("ОТПИСВАНЕ?", "отписване"),
        ("退订。", "退订"),
        ("stop   all", "stop all"),
        ("¡¿BAJA?!", "baja"),
        ("👋 stop 👋", "stop"),
        ("...", ""),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_accents_and_case_do_not_matter() -> None:
    assert parse_command("leiratkozas") == parse_command("LEIRATKOZÁS")
    assert parse_command("desabonner") == parse_command("Désabonner")
    assert parse_command("si") == parse_command("SÍ")
    assert parse_command("Sí")
    assert parse_command("Sí").intent is Intent.OPT_IN  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "stop by the shop tomorrow",
        "please cancel my appointment on Monday",
        "yes I will come",
        "hello",
        "",
        "!!!",
    ],
)
def test_sentences_are_not_commands(text: str) -> None:
    assert parse_command(text) is None


def test_command_with_a_program_keyword() -> None:
    assert parse_command("STOP PIZZA") == Command(Intent.OPT_OUT, "stop", "pizza")
    assert parse_command("stop all") == Command(Intent.OPT_OUT, "stop all")
    assert parse_command("Help, Pizza!") == Command(Intent.HELP, "help", "pizza")
    assert parse_command("start café") == Command(Intent.OPT_IN, "start", "cafe")


def test_first_word() -> None:
    assert first_word("  Hóurs?! today") == "hours"
    assert first_word("") == ""
    assert first_word("...") == ""


def test_intent_of() -> None:
    assert intent_of("stop") is Intent.OPT_OUT
    assert intent_of("start") is Intent.OPT_IN
    assert intent_of("info") is Intent.HELP
    assert intent_of("pizza") is None


def test_check_keyword() -> None:
    assert check_keyword(" Café! ") == "cafe"
    for bad in ("two words", "", "!!", "x" * 41):
        with pytest.raises(ValueError, match="keyword"):
            check_keyword(bad)


def test_render_fills_placeholders_once() -> None:
    out = render(
        "Hi {from}: {keyword} → '{text}' {other}", sender="+359", text="{keyword}!", keyword="K"
    )
    assert out == "Hi +359: K → '{keyword}!' {other}"


@given(st.text(max_size=60))
def test_normalize_is_idempotent_and_parse_never_raises(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip()
    assert "  " not in once
    command = parse_command(text)
    if command is not None:
        assert command.phrase
