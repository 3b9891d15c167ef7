"""Redaction: each built-in detector, user regexes, non-ASCII text, false positives."""

from __future__ import annotations

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.redaction import (
    BUILTINS,
    SCAN_GROUP,
    BuiltinName,
    RedactionConfig,
    RedactionPattern,
    Redactor,
)

ALL = Redactor(RedactionConfig())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe@example.com now", "mail [REDACTED:email] now"),
        ("jane.doe+tag@mail.example.co.uk", "[REDACTED:email]"),
        ("<ops_team-1@sub.example.io>", "<[REDACTED:email]>"),
        ("a@b.de, c.d@e.org", "[REDACTED:email], [REDACTED:email]"),
    ],
)
def test_email(text: str, expected: str) -> None:
    assert ALL.text(text) == expected


@pytest.mark.parametrize(
    "phone",
    [
        "+1 (555) 123-4567",  # US, international
        "555-123-4567",  # US, national
        "(555) 123-4567",
        "202.555.0173",  # dotted
        "2025550173",  # bare digits
        "+44 20 7946 0958",  # UK
        "07700 900123",  # UK mobile, national
        "+49 30 1234567",  # Germany
        "030 12345678",
        "(030) 1234-5678",
        "+33 1 23 45 67 89",  # France, pairs
        "+86 138 0013 8000",  # China
    ],
)
def test_phone_formats(phone: str) -> None:
    assert ALL.text(f"call me on {phone} today") == "call me on [REDACTED:phone] today"


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",  # Visa test number, spaced
        "4111111111111111",
        "5500-0000-0000-0004",  # Mastercard, dashed
        "378282246310005",  # Amex, 15 digits
        "6011 0009 9013 9424",  # Discover
    ],
)
def test_luhn_valid_cards(card: str) -> None:
    assert ALL.text(f"card {card} exp 12/29") == "card [REDACTED:card] exp 12/29"


@pytest.mark.parametrize(
    "number",
    [
        "4111 1111 1111 1112",  # Luhn check digit wrong
        "1234-5678-9012-3456",
        "4111 1111 1111 1111 1111 1",  # 21 digits: too long for a card
    ],
)
def test_numbers_failing_luhn_are_not_cards(number: str) -> None:
    assert "[REDACTED:card]" not in ALL.text(f"ref {number}")


def test_card_only_config_keeps_luhn_invalid_numbers() -> None:
    cards = Redactor(RedactionConfig(builtins=["card"]))
    assert cards.text("4111 1111 1111 1111") == "[REDACTED:card]"
    assert cards.text("4111 1111 1111 1112") == "4111 1111 1111 1112"


@pytest.mark.parametrize(
    "key",
    [
        "sk-abcdefghijklmnop1234",
        "sk-proj-abcdefghijklmnopQRST_1234",
        "sk-ant-api03-abcdefghijklmnop",
        "ak_" + "x" * 32,  # assay's own API keys
        "AKIAABCDEFGHIJKLMNOP",  # AWS access key id
        "ghp_" + "a1" * 18,  # GitHub token
        "xoxb-1234567890-abcdefghij",  # Slack
        "AIza" + "B" * 35,  # Google
    ],
)
def test_api_keys(key: str) -> None:
    assert ALL.text(f"OPENAI_API_KEY={key} set") == "OPENAI_API_KEY=[REDACTED:api_key] set"


@pytest.mark.parametrize(
    "text",
    [
        "risk-assessment-framework-2024",  # "sk-" inside a word
        "task_ak_not_a_real_key_at_all_here",  # "ak_" inside a word
        "sk-short",  # too short to be a key
    ],
)
def test_key_prefixes_inside_words_are_not_keys(text: str) -> None:
    assert ALL.text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi_jkl123", "Authorization: Bearer [REDACTED:bearer]"),
        (
            "authorization: bearer eyJhbGciOi.eyJzdWIi.sig",
            "authorization: Bearer [REDACTED:bearer]",
        ),
        ("BEARER 0123456789abcdef", "Bearer [REDACTED:bearer]"),
    ],
)
def test_bearer_tokens(text: str, expected: str) -> None:
    assert ALL.text(text) == expected


@pytest.mark.parametrize("text", ["a bearer token", "Bearer abc", "the bearer of bad news"])
def test_bearer_word_without_a_token_is_kept(text: str) -> None:
    assert ALL.text(text) == text


def test_only_the_configured_builtins_run() -> None:
    email_only = Redactor(RedactionConfig(builtins=["email"]))
    text = "jane@example.com +1 (555) 123-4567 sk-abcdefghijklmnop1234"
    assert email_only.text(text) == "[REDACTED:email] +1 (555) 123-4567 sk-abcdefghijklmnop1234"


def test_nothing_configured_is_inactive() -> None:
    off = Redactor(RedactionConfig(builtins=[]))
    assert not off.active
    assert off.text("jane@example.com") == "jane@example.com"
    assert Redactor(RedactionConfig()).active
    assert set(RedactionConfig().builtins) == set(BUILTINS)


def test_user_patterns_replace_with_their_name() -> None:
    config = RedactionConfig(
        builtins=[],
        patterns=[
            RedactionPattern(name="employee", regex=r"EMP-\d{6}"),
            RedactionPattern(name="codename", regex=r"(?i)project\s+falcon"),
        ],
    )
    redactor = Redactor(config)
    assert redactor.active
    assert (
        redactor.text("EMP-123456 works on Project  Falcon, EMP-12 does not")
        == "[REDACTED:employee] works on [REDACTED:codename], EMP-12 does not"
    )


def test_user_patterns_run_after_builtins() -> None:
    redactor = Redactor(
        RedactionConfig(patterns=[RedactionPattern(name="ticket", regex=r"TICKET-\d+")])
    )
    assert redactor.text("TICKET-9 from jane@example.com") == (
        "[REDACTED:ticket] from [REDACTED:email]"
    )


def test_invalid_user_regex_is_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="invalid regular expression"):
        RedactionPattern(name="bad", regex="(unclosed")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Grüße 😀 jane@example.com 😀 +1 (555) 123-4567 Ende",
            "Grüße 😀 [REDACTED:email] 😀 [REDACTED:phone] Ende",
        ),
        ("电话 +86 138 0013 8000，谢谢", "电话 [REDACTED:phone]，谢谢"),
        ("Карта 4111 1111 1111 1111 — спасибо", "Карта [REDACTED:card] — спасибо"),
        ("مفتاح sk-abcdefghijklmnop1234 هنا", "مفتاح [REDACTED:api_key] هنا"),
        ("日本語のテキストだけ", "日本語のテキストだけ"),
    ],
)
def test_non_ascii_text_keeps_its_surroundings(text: str, expected: str) -> None:
    assert ALL.text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "released on 2024-05-17",
        "at 2024-05-17T10:30:00Z",
        "from 2024-01-01 to 2024-12-31",
        "between 1999 and 2024",
        "from 2019 - 2024",
        "in 1999/2000",
        "costs $1,299.99",
        "USD 4,500.00",
        "€19.99 per month",
        "$ 99.99",
        "1,234,567 users",
        "pay 100000 now",
        "version 2.10.3",
        "order 12345",
        "10:30-11:45",
    ],
)
def test_no_false_positives_on_dates_years_prices(text: str) -> None:
    assert ALL.text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "total $12345.67",  # a price with cents
        "EUR 1.234.567,00",  # a European-formatted price
        "price 1 299 999 USD",  # thousands separated by spaces
        "in 2019-2024 we grew",  # a range of years
        "am 17.05.2024",  # a European date
        "0.5% of 1000000",  # a plain 7-digit number
        "at 2024-05-17T10:30:00.123456Z",  # ISO time with microseconds
        "2024-05-17 10:30:00.123456",
    ],
)
def test_no_false_positives_on_amounts_and_timestamps(text: str) -> None:
    assert ALL.text(text) == text


@pytest.mark.parametrize(
    "text",
    ["jürgen.schmidt@example.com", "müller@exämple.de", "пользователь@пример.рф"],
)
def test_internationalised_emails_are_redacted_whole(text: str) -> None:
    assert ALL.text(f"write to {text} today") == "write to [REDACTED:email] today"


def test_value_redacts_nested_strings_only() -> None:
    value = {
        "to": ["jane@example.com", 42, None, True],
        "meta": {"auth": "Bearer 0123456789abcdef", "n": 1.5},
    }
    assert ALL.value(value) == {
        "to": ["[REDACTED:email]", 42, None, True],
        "meta": {"auth": "Bearer [REDACTED:bearer]", "n": 1.5},
    }


def test_a_key_with_digit_runs_is_one_key_not_a_phone() -> None:
    assert ALL.text("sk-1234567890123456789012") == "[REDACTED:api_key]"


def test_json_escapes_and_decorators_are_not_emails() -> None:
    # GenAI message JSON is redacted as stored: "\n" there is a backslash and an n.
    text = '{"content": "app = Flask(__name__)\\n@app.route(\'/ping\')\\nwrite bob@example.org"}'
    out = ALL.text(text)
    assert "\\n@app.route" in out
    assert "bob@example.org" not in out
    assert "[REDACTED:email]" in out


def test_bearer_in_any_case_is_redacted() -> None:
    assert ALL.text("auth: BeArEr 0123456789abcdef") == "auth: Bearer [REDACTED:bearer]"


# Pieces that each detector looks for, and near misses, so random texts built from
# them hit every detector's edge: short digit runs, a lone "@", key prefixes inside
# words, "bearer" without a token.
PIECES = [
    *"0123456789",
    " ", "-", ".", "(", ")", "+", "\t", "@", "_", "a", "Z", "é", "\x00",
    "example.com", "jane", "sk-", "ak_", "AKIA", "ghp_", "xoxb-", "AIza", "bearer ", "BEARER ",
    "abcdefghijklmnopqrstuvwxyz0123", "ABCDEFGHIJKLMNOP", "4111 1111 1111 1111",
    "+1 (555) 123-4567", "2024-05-17", "12345.67",
    "\\", "\\n", "ü", "ß", "de", "@memoize", "+49 30 1234567", "1.234.567",
]  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(PIECES), max_size=40),
    builtins=st.sets(st.sampled_from(BUILTINS)),
)
def test_may_change_is_exactly_whether_text_changes(
    pieces: list[str], builtins: set[BuiltinName]
) -> None:
    # may_change is the ingest path's pre-check: answering False when text() would
    # redact something would store personal data.
    text = "".join(pieces)
    redactor = Redactor(RedactionConfig(builtins=sorted(builtins)))
    assert redactor.may_change(text) == (redactor.text(text) != text)


@pytest.mark.parametrize(
    ("text", "candidate"),
    [
        ("@memoize\ndef f(): pass", False),  # a decorator: no dot after the name
        ('"\\n    @log\\n"', False),
        ("meet at 10.30, room 4", False),  # five digits: neither a phone nor a card
        ("\"\\\\n@app.route('/ping')\"", True),  # JSON-escaped: a candidate, left alone
        ("write to jürgen@müller.de", True),
        ("call 555 123 4567", True),
        ("call 555-1234", True),  # seven digits: the shortest phone redacted
        ("(0) 123 456", True),
    ],
)
def test_the_pre_scan_passes_over_what_no_detector_could_match(text: str, candidate: bool) -> None:
    assert ALL.may_change(text) == (ALL.text(text) != text)
    assert (ALL._scanner is not None and ALL._scanner.hits(text)) == candidate


def test_may_change_with_user_patterns_only() -> None:
    pattern = RedactionPattern(name="ticket", regex=r"TICKET-\d+")
    redactor = Redactor(RedactionConfig(builtins=[], patterns=[pattern]))
    assert redactor.may_change("see TICKET-42")
    assert not redactor.may_change("jane@example.com, no ticket")


def test_may_change_on_the_negative_examples() -> None:
    for text in ["a bearer token", "the 2019-2024 range", "task_ak_not_a_real_key_at_all_here"]:
        assert not ALL.may_change(text)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(
        st.lists(st.sampled_from(PIECES), max_size=6).map("".join), max_size=3 * SCAN_GROUP
    ),
    builtins=st.sets(st.sampled_from(BUILTINS), min_size=1),
)
def test_candidates_are_the_texts_the_pre_scan_finds_something_in(
    texts: list[str], builtins: set[BuiltinName]
) -> None:
    # The compiled ingest path sends exactly these spans to the Python path, which
    # redacts them; a text left out would be stored unredacted.
    redactor = Redactor(RedactionConfig(builtins=sorted(builtins)))
    blobs = [text.encode() for text in texts]
    found = redactor.candidates(blobs)
    assert redactor._scanner is not None
    assert found == [i for i, blob in enumerate(blobs) if redactor._scanner.hits_bytes(blob)]
    # A candidate need not change (may_change answers that), but every text that
    # would change is a candidate.
    assert {i for i, text in enumerate(texts) if redactor.may_change(text)} <= set(found)


def test_candidates_without_builtins_and_the_pre_scan_with_user_patterns() -> None:
    pattern = RedactionPattern(name="ticket", regex=r"TICKET-\d+")
    patterns_only = Redactor(RedactionConfig(builtins=[], patterns=[pattern]))
    assert patterns_only.candidates([b"jane@example.com"]) == []
    assert not patterns_only.prescan_decides  # its patterns have no pre-scan
    assert ALL.prescan_decides
    assert ALL.candidates([b"clean", b"mail jane@example.com", b"also clean"]) == [1]
