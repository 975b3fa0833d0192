"""Credentials in URLs, kept out of what people read: error lines, settings, logs.

:func:`mask_url` is the one helper: give it a URL or any text that holds URLs (an error message,
a log line) and it returns the same text with every URL's password replaced by ``***``
(``http://user:***@host``); a URL with a user name only (``https://TOKEN@host``, the usual way
of putting a token in a git URL) has the name masked instead.  Text without credentials comes
back unchanged.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "mask_url"]

MASK = "***"
# scheme://user:password@  or  scheme://user@  (up to the host: no '/', '?', '#' or space in
# between; a password may hold '@' when its writer forgot to escape it: the last '@' ends it).
_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)"
    r"(?P<user>[^:/?#@\s]*)(?::(?P<password>[^/?#\s]*))?@(?=[^/?#\s@]*(?:[/?#\s]|$))"
)


def _masked(match: re.Match[str]) -> str:
    scheme, user, password = match["scheme"], match["user"], match["password"]
    if password is None:
        return f"{scheme}{MASK}@" if user else match[0]
    return f"{scheme}{user}:{MASK}@"


def mask_url(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***`` (a bare user name,
    which is how tokens ride in URLs, is masked too)."""
    if "@" not in text:
        return text
    return _USERINFO.sub(_masked, text)
