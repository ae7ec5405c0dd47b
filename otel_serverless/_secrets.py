"""What a secret looks like: by the name it goes under, and by its own shape.

Two kinds of rules, used by :class:`~otel_serverless._scrub.Scrubber`:

* **names** — a key, header, query parameter or ``name``/``value`` pair whose name
  says it holds a secret (``password``, ``X-Acme-Auth``, ``X-Amz-Signature``,
  ``card_number``, ``pin`` …). Long fragments match anywhere in the name once its
  separators are removed; short words (``pin``, ``otp``, ``sig``…) match only as a
  word of the name (``userPin``, ``x-otp``, ``sig``, but not ``shipping`` or ``design``).
* **shapes** — a value that is a credential whatever its name: a URL with a password,
  an AWS access key id or secret key, a JWT, a PEM block, a bearer token, a card
  number (Luhn-checked, known issuer prefixes), a few well-known API token formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from otel_serverless._text import pattern

#: Fragments that mark a secret anywhere in a name (lower-cased, separators removed).
SECRET_FRAGMENTS: Final = (
    "passw",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "credential",
    "authoriz",
    "authoris",
    "cookie",
    "session",
    "signature",
    "apikey",
    "privatekey",
    "accesskey",
    "signingkey",
    "encryptionkey",
    "creditcard",
    "cardnumber",
    "cardno",
    "cardcode",
    "securitycode",
    "socialsecurity",
    "pincode",
    "passcode",
    "mfacode",
    "otpcode",
    "verificationcode",
    "clientsecret",
    "dsn",
    "connectionstring",
)
#: Words that mark a secret as a whole word of a name (camelCase, snake_case, kebab-case …).
SECRET_WORDS: Final = frozenset(
    {
        *("auth", "authn", "authentication", "pass", "pin", "cvv", "cvv2", "cvc", "cvc2", "csc", "ssn"),
        *("otp", "totp", "hotp", "sig", "jwt", "pan"),
    }
)
#: ``key`` marks a secret only as a word between separators (``x-key``, ``key_id``), not as
#: the end of a camelCase name (``partitionKey``, ``objectKey`` are not secrets).
KEY_WORDS: Final = frozenset({"key", "keys"})

_SEPARATORS = re.compile(r"[\s_.\-:/\\]+")
_CAMEL_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_PLAIN_WORDS = re.compile(r"[a-z0-9]+")


def secret_name(name: str) -> bool:
    """Whether *name* (a key, header, parameter) names a secret by the built-in rules."""
    lowered = name.lower()
    squashed = _SEPARATORS.sub("", lowered)
    if any(fragment in squashed for fragment in SECRET_FRAGMENTS):
        return True
    if not SECRET_WORDS.isdisjoint(word.lower() for word in _CAMEL_WORDS.findall(name)):
        return True
    return not KEY_WORDS.isdisjoint(_PLAIN_WORDS.findall(lowered))


#: A loose first test on lower-cased text: could some pair in it have a secret name? (False
#: positives are fine: :func:`secret_name` decides.) Plain substrings: ``in`` is far faster
#: than one regular expression of alternatives.
NAME_HINTS: Final = (
    *SECRET_FRAGMENTS,
    *sorted(SECRET_WORDS - {"cvv2", "cvc2", "totp", "hotp", "authn", "authentication"}),  # in others
    "key",
    "card",
)
#: The same for the credential shapes below that start with a fixed text (lower-cased).
SHAPE_HINTS: Final = (
    *("-----begin", "eyj", "://", "bearer", "basic", "digest", "negotiate", "gh", "xox", "k_live_", "k_test_"),
    *("aiza", "glpat-", "npm_"),
    *("w3s", "wyj", "eya", "ewo", "wwo", "wya"),  # base64 of the start of a JSON object or array
)

# -- shapes ---------------------------------------------------------------------------
# Sources, compiled at their first use (``_text.pattern``): only text that may hold a secret
# (:func:`may_hold_secret`) reaches them, which many functions never record.

_REDACTED = "[REDACTED]"

_PEM = r"-----BEGIN [A-Z0-9 ]{1,64}-----.*?(?:-----END [A-Z0-9 ]{1,64}-----|\Z)"
# A JWT, or what is left of one cut short: its header is base64url JSON, so it starts "eyJ".
_JWT = r"\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}"
_URL_PASSWORD = r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s:/@?#\"'\\]*:)[^\s@/?#\"'\\]+@"  # noqa: S105 (a pattern, not a password)
_SCHEME = r"\b(?P<scheme>Bearer|Basic|Digest|Negotiate|Token)\s+(?P<value>[A-Za-z0-9._~+/=-]{6,})"
_AWS_KEY_ID = r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b"
_AWS_SECRET = r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"  # noqa: S105 (a pattern, not a secret)
_API_TOKENS = (
    r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36})"
)
_CARD = r"(?<![\d.])(?:\d[ -]?){12,18}\d(?![\d.])"

#: A first test for the shapes without a fixed start: a long run of key characters (AWS keys)
#: or of digits (cards). With :data:`SHAPE_HINTS`, a string that has none of them has no shape.
SHAPE_RUNS: Final = re.compile(r"[A-Z0-9]{20}|[A-Za-z0-9/+]{40}|(?:\d[ -]?){12}\d")


def may_hold_secret(text: str) -> bool:
    """A loose, fast first test: False means no rule can find a secret in *text*."""
    lowered = text.lower()
    return (
        any(hint in lowered for hint in NAME_HINTS)
        or any(hint in lowered for hint in SHAPE_HINTS)
        or lowered.lstrip()[:1] in ("{", "[")
        or bool(SHAPE_RUNS.search(text))
    )


#: Issuer prefixes of card numbers (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
#: Maestro): 13–19 digits that pass the Luhn check and start so are taken for a card.
_CARD_PREFIX = r"4|5[1-5]|2[2-7]|3[47]|6(?:011|5|4[4-9]|2)|35|3(?:0[0-5]|[689])|5[06-9]"


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match[0])
    if 13 <= len(digits) <= 19 and pattern(_CARD_PREFIX).match(digits) and luhn(digits):
        return _REDACTED
    return match[0]


def _aws_secret(match: re.Match[str]) -> str:
    value = match[0]
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return _REDACTED if mixed and any(c.isdigit() or c in "/+" for c in value) else value


def _scheme(match: re.Match[str]) -> str:
    value = match["value"]
    if match["scheme"].lower() in ("bearer", "negotiate") or (
        any(c.isdigit() or c in "=+/" for c in value) and any(c.isalpha() for c in value)
    ):
        return f"{match['scheme']} {_REDACTED}"
    return match[0]  # "Basic usage", "token expired": words, not credentials


#: Each shape (its source and flags) and what it becomes, in order.
SHAPES: Final[tuple[tuple[str, int, str | Callable[[re.Match[str]], str]], ...]] = (
    (_JWT, 0, _REDACTED),
    (_URL_PASSWORD, 0, rf"\g<head>{_REDACTED}@"),
    (_SCHEME, re.IGNORECASE, _scheme),
    (_AWS_KEY_ID, 0, _REDACTED),
    (_API_TOKENS, 0, _REDACTED),
    (_AWS_SECRET, 0, _aws_secret),
    (_CARD, 0, _card),
)


def blocks(text: str) -> str:
    """*text* with its PEM blocks masked, cut-short ones included (before any rule that
    stops at the end of a line, as a pair's value does)."""
    return pattern(_PEM, re.DOTALL).sub(_REDACTED, text) if "-----BEGIN " in text else text


def shapes(text: str) -> str:
    """*text* with every credential shape in it masked but PEM blocks (see :func:`blocks`)."""
    for source, flags, replacement in SHAPES:
        compiled = pattern(source, flags)
        if compiled.search(text):
            text = compiled.sub(replacement, text)
    return text
