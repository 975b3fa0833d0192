"""Recognising values that look like credentials (pure: no I/O, no environment reads).

Code under test is hostile by default: a value it returns may carry a key it read somewhere.
Callers screen every observed value before writing it into a test, printing it, tracing it or
putting it into a prompt.  A value looks like a credential when it

- has a known key format (cloud, code-host, chat, payment and model-provider keys, private key
  blocks, JWTs, URLs with a password, Sentry DSNs, ``password=...`` pairs),
- holds a high-entropy token (24+ characters mixing upper case, lower case and digits, with
  at least 4 bits of entropy per character: random keys, not words, paths or hex digests), or
- contains one of the ``known`` secret values: those of the parent's secret-looking environment
  variables, see :func:`secret_values`.

:class:`CredentialScreen` bundles the known values with :func:`looks_like_credential` and
:func:`redact`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

PLACEHOLDER = "[redacted]"
MIN_SECRET_LENGTH = 6  # shorter values ("1", "true", "dev") would match everywhere

_KEY_FORMATS = (
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",  # AWS access key ids
    r"\bgh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{22,}",
    r"\bglpat-[A-Za-z0-9_-]{20,}",  # GitLab
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack tokens
    r"hooks\.slack\.com/services/[A-Za-z0-9/_-]+",  # Slack webhooks
    r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}",  # OpenAI, Anthropic
    r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe
    r"\bAIza[0-9A-Za-z_-]{35}",  # Google API keys
    r"\bhf_[A-Za-z0-9]{30,}",  # Hugging Face
    r"\bnpm_[A-Za-z0-9]{36}",
    r"\bpypi-[A-Za-z0-9_-]{50,}",
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT
    r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@",  # a URL with a password
    r"https?://[0-9a-f]{32}(?::[0-9a-f]{32})?@",  # Sentry DSN
    # a ``password=...`` pair, not a keyword argument in code (``bump_build(token=None)``,
    # ``connect(password=getpass())``): no Python constant, no call, no argument list
    r"(?i:\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)="
    r"(?!(?:None|True|False)\b)[^&\s'\"(),]{4,}(?![\w(.]))",
)
_KEY_FORMAT = re.compile("|".join(f"(?:{pattern})" for pattern in _KEY_FORMATS))
_TOKEN = re.compile(r"[A-Za-z0-9+/_=-]{24,}")
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|_PWD$|CREDENTIAL|API_?KEY|PRIVATE|_KEY$|^KEY$|_AUTH|AUTH_|DSN|WEBHOOK"
    r"|COOKIE|SIGNATURE|DATABASE_URL",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"://[^/\s:@]+:([^/\s@]+)@")
_QUERY_SECRET = re.compile(r"(?i)(?:password|passwd|pwd|secret|token|key)=([^&\s]+)")


def _entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _high_entropy(token: str) -> bool:
    classes = sum(any(test(ch) for ch in token) for test in (str.isupper, str.islower, str.isdigit))
    return classes == 3 and _entropy(token) >= 4.0


def secret_values(env: Mapping[str, str]) -> frozenset[str]:
    """The values of ``env`` worth hiding: those of secret-looking names (``*TOKEN*``,
    ``*SECRET*``, ``*PASSWORD*``, ``*_KEY``, ``*DSN*``, ``*WEBHOOK*``, ``DATABASE_URL`` ...),
    values that look like credentials themselves, and passwords inside URLs or query strings."""
    found: set[str] = set()
    for name, value in env.items():
        if _SECRET_NAME.search(name) or looks_like_credential(value):
            found.add(value)
        found.update(match.group(1) for match in _URL_PASSWORD.finditer(value))
        found.update(match.group(1) for match in _QUERY_SECRET.finditer(value))
    return frozenset(value for value in found if len(value) >= MIN_SECRET_LENGTH)


def looks_like_credential(value: object, known: Iterable[str] = ()) -> bool:
    """Whether ``value`` (its ``str``) looks like or contains a credential, see the module."""
    text = value if isinstance(value, str) else str(value)
    if any(secret and secret in text for secret in known):
        return True
    if _KEY_FORMAT.search(text):
        return True
    return any(_high_entropy(match.group()) for match in _TOKEN.finditer(text))


def redact(text: str, known: Iterable[str] = (), placeholder: str = PLACEHOLDER) -> str:
    """``text`` with known secret values, key formats and high-entropy tokens replaced."""
    for secret in sorted((s for s in known if s), key=len, reverse=True):
        text = text.replace(secret, placeholder)
    text = _KEY_FORMAT.sub(placeholder, text)
    return _TOKEN.sub(lambda m: placeholder if _high_entropy(m.group()) else m.group(), text)


@dataclass(frozen=True)
class CredentialScreen:
    """The known secret values of one environment, with the checks that use them."""

    known: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CredentialScreen:
        return cls(secret_values(env))

    def looks_like(self, value: object) -> bool:
        return looks_like_credential(value, self.known)

    def redact(self, text: str) -> str:
        return redact(text, self.known)
