"""Secrets kept out of what fleet records or shows: passwords in URLs, values of password-like options.

    redact("fleet monitor --mqtt mqtt://ann:pw@broker:1883 --password x")
    -> "fleet monitor --mqtt mqtt://ann:***@broker:1883 --password ***"

Applied wherever a command line or a URL a user typed is written down or printed (lock
files, the busy message `fleet scan` and a refused opener show, errors about a broker URL).
An option whose name ends in `-file`/`_file` names where a secret is, not the secret: kept.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://user:password@  (the password runs to the last "@" before a "/" or a blank)
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*):[^\s/]*@")
_SECRET_OPTION = re.compile(
    r"(?P<option>(?<!\S)--?[A-Za-z0-9_-]*(?:pass(?:word|wd|phrase)?|secret|token)[A-Za-z0-9_-]*)"
    r"(?P<sep>=|\s+)(?P<value>(?!--)\S+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with every URL password and every password-like option's value replaced by `***`."""
    text = _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", text)
    return _SECRET_OPTION.sub(_mask_option, text)


def _mask_option(match: re.Match[str]) -> str:
    if match["option"].lower().endswith(("-file", "_file")):
        return match[0]
    return f"{match['option']}{match['sep']}{MASK}"
