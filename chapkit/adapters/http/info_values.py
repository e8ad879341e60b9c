"""Which info values chap-core's own metadata model accepts: commit shas, http(s) URLs, e-mail addresses.

chap-core validates a service's `/api/v1/info` with pydantic's `HttpUrl` and `EmailStr`; one value it
refuses fails the whole info (and so the registration). The reference's fields are looser (a logo URL may
be a relative path; e-mail addresses are checked pragmatically), so the info serves in its newer fields only
what passes these checks. The e-mail check is deliberately stricter than chap-core's where they could
differ (non-ASCII addresses are not accepted): a value left out costs a line of metadata, one let through
would cost the registration.
"""

from __future__ import annotations

import re

from pydantic import HttpUrl, TypeAdapter, ValidationError

_COMMIT_SHA = re.compile(r"[0-9a-fA-F]{7,40}")
_LOCAL_PART = re.compile(r"[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+(\.[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+)*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?")
# Names chap-core's e-mail validation refuses as not globally routable (RFC 6761, 6762, 7686).
_SPECIAL_USE_DOMAINS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def commit_sha(value: object) -> str | None:
    """`value` as chap-core keeps a git revision: a 7-40 character hex sha, lowercased; None otherwise."""
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    return stripped.lower() if _COMMIT_SHA.fullmatch(stripped) else None


def is_http_url(value: object) -> bool:
    """Whether chap-core accepts `value` as an `HttpUrl`: an absolute http(s) URL with a host."""
    try:
        _HTTP_URL.validate_python(str(value))
    except ValidationError:
        return False
    return True


def is_routable_email(value: object) -> bool:
    """Whether chap-core accepts `value` as an e-mail address (ASCII addresses with a routable domain)."""
    if not isinstance(value, str) or len(value) > 254 or value.count("@") != 1 or not value.isascii():
        return False
    local, domain = value.split("@")
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local) or len(domain) > 253:
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return False
    # Punycode and other labels with "--" in third and fourth place need IDNA checks chapkit does not make.
    if any(len(label) > 3 and label[2:4] == "--" for label in labels):
        return False
    top = labels[-1].lower()
    return top[-1].isalpha() and top not in _SPECIAL_USE_DOMAINS


__all__ = ["commit_sha", "is_http_url", "is_routable_email"]
