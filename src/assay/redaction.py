"""Redaction of personal data and secrets, applied before anything is stored.

Built-in detectors cover e-mail addresses, phone numbers, payment card numbers
(Luhn-checked), API keys and bearer tokens; projects add their own regexes. Each
match becomes ``[REDACTED:<name>]``.

Every detector has a pre-check (an ``@`` for e-mail, a digit run for numbers, a
known key prefix for API keys): most text has none. On the ingest path one Hyperscan
scan looks for what all of them need at once (:meth:`Redactor.may_change`), which
keeps redaction at a few microseconds per span (bench/ingest.py measures it with
redaction on).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

import hyperscan
from pydantic import BaseModel, Field, field_validator

from assay.errors import InvalidInput

BuiltinName = Literal["email", "phone", "card", "api_key", "bearer"]
BUILTINS: tuple[BuiltinName, ...] = ("email", "phone", "card", "api_key", "bearer")


class RedactionPattern(BaseModel):
    """A user-defined rule: every match of ``regex`` is replaced."""

    name: str = Field(min_length=1, max_length=50, description="Shown as [REDACTED:name].")
    regex: str = Field(min_length=1, description="Python regular expression.")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
        return value


class RedactionConfig(BaseModel):
    """A project's redaction rules. By default every built-in detector is on."""

    builtins: list[BuiltinName] = Field(default_factory=lambda: list(BUILTINS))
    patterns: list[RedactionPattern] = Field(default_factory=list)


# \w: internationalised addresses (RFC 6531) have non-ASCII local parts and domains.
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
# A run of digits with separators that could be a phone or card number. Python's re
# scans ~10 ns a character; mapping ASCII text to a class per byte first
# (bytes.translate, memcpy speed) and scanning that is ~4x faster on 2 KB of prose.
_RUN_CLASSES = bytes(
    ord("d")
    if chr(i) in "0123456789"
    else ord("s")
    if chr(i) in " \t().-"
    else ord("p")
    if chr(i) == "+"
    else ord("x")
    for i in range(256)
)
_RUN_MAPPED = re.compile(rb"d[ds]{5,}d")
# International or national numbers with separators: +49 30 1234567, (555) 123-4567.
_PHONE = re.compile(r"\+?(?:\(\d{1,4}\)|\d{1,4})(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5})){1,5}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DOTTED_DATE = re.compile(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}")
_GROUPS = re.compile(r"[ \t().-]+")
_YEAR = re.compile(r"(?:19|20)\d\d")
# One regex per key family, each starting with its literal prefix so re can skip
# ahead with a substring search: (prefix, a byte every match holds, pattern). The
# byte is looked for first with a memchr, which skips the family's substring checks
# (~1.5 us a KB each) in most prose; the prefix is looked for before the regex runs.
_API_KEYS = (
    (b"sk-", b"-", re.compile(r"sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}")),
    (b"ak_", b"_", re.compile(r"ak_[A-Za-z0-9_-]{20,}")),
    (b"AKIA", b"A", re.compile(r"AKIA[0-9A-Z]{16}")),
    *((f"gh{c}_".encode(), b"_", re.compile(f"gh{c}_[A-Za-z0-9]{{30,}}")) for c in "pousr"),
    (b"xox", b"-", re.compile(r"xox[abpr]-[A-Za-z0-9-]{10,}")),
    (b"AIza", b"A", re.compile(r"AIza[0-9A-Za-z_-]{35}")),
)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}")


_TOKEN_CLASSES = bytes(
    ord("t") if chr(i).isascii() and (chr(i).isalnum() or chr(i) in "_-") else ord(" ")
    for i in range(256)
)
_LONG_TOKEN = b"t" * 15
_EMAIL_LOCAL = re.compile(r"[\w.%+-]")


def _emails(text: str) -> str:
    """Redact e-mail addresses, starting from each ``@``.

    Scanning the whole text with the address pattern tries a match at every word
    character (~130 us for 2 KB); walking back from each ``@`` to the start of the
    local part and matching once from there costs a few microseconds.
    """
    parts: list[str] = []
    last = 0
    at = text.find("@")
    while at != -1:
        start = at
        while start > last and _EMAIL_LOCAL.match(text, start - 1):
            start -= 1
        if start > 0 and text[start - 1] == "\\":
            # "\\n@app.route" in JSON-escaped text: the n belongs to the escape.
            start += 1
        match = _EMAIL.match(text, start) if start < at else None
        if match is not None and match.end() > at:
            parts.append(text[last:start])
            parts.append("[REDACTED:email]")
            last = match.end()
            at = text.find("@", last)
        else:
            at = text.find("@", at + 1)
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


def _key_sub(match: re.Match[str]) -> str:
    start = match.start()
    # "task-0123456789abcdef" is not a key: require a word boundary before the prefix.
    if start > 0 and (match.string[start - 1].isalnum() or match.string[start - 1] == "_"):
        return match.group(0)
    return "[REDACTED:api_key]"


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _numbers(text: str, raw: bytes, *, phone: bool, card: bool) -> str:
    mapped = raw.translate(_RUN_CLASSES)
    runs = [m.span() for m in _RUN_MAPPED.finditer(mapped)]
    if not runs:
        return text
    parts: list[str] = []
    last = 0
    for begin, end in runs:
        # The run starts at a digit; take in a "+" or "(" just before it.
        if begin > 0 and mapped[begin - 1] in b"ps" and text[begin - 1] in "+(":
            begin -= 1
        run = text[begin:end]
        replacement = _classify(run, phone=phone, card=card)
        if replacement is not None:
            parts.append(text[last:begin])
            parts.append(replacement)
            last = end
    parts.append(text[last:])
    return "".join(parts)


def _classify(run: str, *, phone: bool, card: bool) -> str | None:
    digits = "".join(ch for ch in run if ch.isdigit())
    if card and 13 <= len(digits) <= 19 and _luhn_ok(digits):
        return "[REDACTED:card]"
    if phone and 7 <= len(digits) <= 15 and _looks_like_phone(run, len(digits)):
        return "[REDACTED:phone]"
    return None


def _looks_like_phone(run: str, digits: int) -> bool:
    """Whether a digit run reads as a phone number rather than an amount or a date.

    Written out because the well-kept parser (Google's libphonenumber) needs a
    region to parse national numbers and finds numbers, not the amounts and dates
    that must not be redacted. The rules, each from a case in tests: an international
    prefix or an area code in parentheses is a phone; an unbroken run of fewer than
    10 digits (an id, 1000000), thousands grouping (1.234.567, 1 299 999), a
    decimal (12345.67), a date (2024-05-17, 17.05.2024) or a year range (2019-2024)
    is not.
    """
    if not _PHONE.fullmatch(run):
        return False
    if run.startswith("+"):
        return digits >= 8
    if run.startswith("("):
        return True
    if _ISO_DATE.search(run) or _DOTTED_DATE.fullmatch(run):
        return False
    groups = [g for g in _GROUPS.split(run) if g]
    if len(groups) < 2:
        # 2025550173 is a phone number; 1000000 and most order ids are shorter.
        return digits >= 10
    separators = set(_GROUPS.findall(run))
    if all(_YEAR.fullmatch(g) for g in groups):
        return False
    if len(groups[0]) <= 2 and all(len(g) == 3 for g in groups[1:]):
        return False
    if separators == {"."} and (len(groups) == 2 or all(len(g) == 3 for g in groups[1:])):
        return False
    return len(groups[-1]) >= 3


# What each built-in detector needs to find anything: its pre-checks in
# :meth:`Redactor.text`, as patterns. Scanning a span's text for all of them at once
# with Hyperscan (~1 ns a byte) answers "nothing to redact" for most spans in ~4 us,
# where the pre-checks each take a pass of their own (~20 us a 2.4 KB span).
_SEVEN_DIGITS = rb"[0-9](?:[ \t().\-]*[0-9]){6}"
_CANDIDATES: dict[BuiltinName, tuple[bytes, ...]] = {
    "bearer": (rb"bearer",),  # caseless, as the detector
    "api_key": tuple(hint for hint, _, _ in _API_KEYS),  # literal prefixes
    # _EMAIL needs a local-part character before the "@" and a run of word
    # characters or hyphens then a dot after it; in UTF-8 a non-ASCII word character
    # ends in a continuation byte (\x80-\xbf) and is made of bytes \x80-\xf4. So
    # "@app.route" in code is a candidate, "@memoize" or "@log" is not.
    "email": (rb"[A-Za-z0-9_.%+\-\x80-\xbf]@[A-Za-z0-9_\-\x80-\xf4]+\.",),
    # Both classify a run of digits and separators only when it holds 7 digits (a
    # phone) or 13 (a card): seven digits with separators between them, anywhere.
    "phone": (_SEVEN_DIGITS,),
    "card": (_SEVEN_DIGITS,),
}


class _Scanner:
    """One Hyperscan database of the candidate patterns of some built-in detectors."""

    def __init__(self, names: frozenset[BuiltinName]) -> None:
        patterns: list[bytes] = []
        flags: list[int] = []
        for name in sorted(names):
            for pattern in _CANDIDATES[name]:
                patterns.append(pattern)
                caseless = hyperscan.HS_FLAG_CASELESS if name == "bearer" else 0
                flags.append(hyperscan.HS_FLAG_SINGLEMATCH | caseless)
        self._db = hyperscan.Database()
        self._db.compile(
            expressions=patterns,
            ids=list(range(len(patterns))),
            elements=len(patterns),
            flags=flags,
        )
        self._scratch = hyperscan.Scratch(self._db)
        self._local = threading.local()

    def hits(self, text: str) -> bool:
        """Whether any candidate pattern occurs in ``text``."""
        return self.hits_bytes(text.encode("utf-8", "surrogatepass"))

    def hits_bytes(self, data: bytes) -> bool:
        """Whether any candidate pattern occurs in ``data`` (UTF-8 text)."""
        # A scratch space per thread: Hyperscan's are not to be shared while scanning.
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._scratch.clone()
        try:
            self._db.scan(data, match_event_handler=_stop, scratch=scratch)
        except hyperscan.ScanTerminated:
            return True
        return False


def _stop(*_: Any) -> bool:
    return True  # the first match answers the question: stop scanning


SCAN_GROUP = 8
"""Texts scanned at once by :meth:`Redactor.candidates`. About 2-4% of chat spans hold
a candidate, so most groups of eight are cleared by one scan."""


@cache
def _scanner(names: frozenset[BuiltinName]) -> _Scanner:
    return _Scanner(names)


class Redactor:
    """Applies a project's rules to text and to nested attribute values."""

    def __init__(self, config: RedactionConfig) -> None:
        self.config = config
        names = set(config.builtins)
        self._bearer = "bearer" in names
        self._keys = "api_key" in names
        self._email = "email" in names
        self._phone = "phone" in names
        self._card = "card" in names
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        for pattern in config.patterns:
            try:
                compiled = re.compile(pattern.regex)
            except re.error as exc:  # pragma: no cover - the model validator catches it
                raise InvalidInput(f"redaction pattern {pattern.name!r}: {exc}") from exc
            self._patterns.append((compiled, f"[REDACTED:{pattern.name}]"))
        self._scanner = _scanner(frozenset(names)) if names else None

    @property
    def active(self) -> bool:
        """Whether any rule is on."""
        return bool(
            self._bearer or self._keys or self._email or self._phone or self._card or self._patterns
        )

    @property
    def prescan_decides(self) -> bool:
        """Whether the built-in rules' pre-scan alone tells text with nothing to
        redact: true unless the project has patterns of its own, which have none."""
        return not self._patterns

    def candidates(self, texts: Sequence[bytes]) -> list[int]:
        """Indexes of ``texts`` (UTF-8, each a span's strings joined by NULs) in
        which the built-in rules' pre-scan finds something; redacting the others
        would change nothing (given :attr:`prescan_decides`).

        Texts are scanned :data:`SCAN_GROUP` at a time, NUL-joined, and a group with
        a candidate is scanned text by text: each scan lets go of the GIL and waits
        to take it back, and most groups have no candidate. No candidate pattern
        matches a NUL, so a group has one exactly when one of its texts has.
        """
        scanner = self._scanner
        if scanner is None:
            return []
        found: list[int] = []
        for first in range(0, len(texts), SCAN_GROUP):
            group = texts[first : first + SCAN_GROUP]
            if scanner.hits_bytes(b"\x00".join(group)):
                found += [first + i for i, text in enumerate(group) if scanner.hits_bytes(text)]
        return found

    def may_change(self, value: str) -> bool:
        """Whether redacting ``value`` may change it; False means it certainly would not.

        A scan for what every detector needs to find anything, then the user patterns.
        """
        if self._scanner is not None and self._scanner.hits(value):
            return self.text(value) != value
        return any(compiled.search(value) for compiled, _ in self._patterns)

    def text(self, value: str) -> str:
        """Redact one string."""
        # Latin-1 with "replace" gives one byte per character, so offsets found in
        # `raw` are offsets in `value`, and substring checks on bytes are memmem-fast
        # (a str search over text with non-Latin-1 characters is ~10x slower).
        raw = value.encode("latin-1", "replace")
        changed = False
        # Secrets first: a key or token may contain digit runs that look like numbers.
        if self._bearer and b"bearer" in raw.lower():
            value, n = _BEARER.subn("Bearer [REDACTED:bearer]", value)
            changed = changed or n > 0
        # Every key shape is an unbroken run of 15+ token characters; prose and JSON
        # rarely hold one, and one memmem over the class-mapped text tells.
        if self._keys and _LONG_TOKEN in raw.translate(_TOKEN_CLASSES):
            present = {b"_": b"_" in raw, b"-": b"-" in raw, b"A": b"A" in raw}
            for hint, gate, pattern in _API_KEYS:
                if present[gate] and hint in raw:
                    new = pattern.sub(_key_sub, value)
                    changed = changed or new != value
                    value = new
        if self._email and b"@" in raw:
            new = _emails(value)
            changed = changed or new != value
            value = new
        if self._phone or self._card:
            if changed:
                raw = value.encode("latin-1", "replace")
            value = _numbers(value, raw, phone=self._phone, card=self._card)
        for compiled, label in self._patterns:
            value = compiled.sub(label, value)
        return value

    def value(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value
