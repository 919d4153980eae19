"""Who owns a saved session: a browser's token, or a signed-in user (issue 15).

Streamlit cannot set cookies, so a browser keeps an unguessable token in its
``localStorage`` (the page's tiny components-v2 element,
:mod:`chessapp.ui.owner`), and the server only ever stores a hash of it: a
copy of the database does not let anyone act as a browser. Where the operator
configured ``st.login`` (OIDC) and the visitor is signed in, the session
belongs to the user instead, by the identity provider's stable ``sub`` claim
(with the issuer, so two providers' subjects cannot collide).

Owners are strings in the store:

* ``browser:<64 hex>``: sha256 of the browser's token;
* ``oidc:<issuer>#<subject>`` (or ``oidc:email:<address>`` when the provider
  sends no ``sub``);
* ``local`` (:data:`LOCAL_OWNER`): the CLI, scripts and tests;
* nothing (``NULL``): sessions saved before owners existed, read-only for all.

Pure: no Streamlit here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping

__all__ = [
    "LOCAL_OWNER",
    "OWNER_TOKEN_BYTES",
    "browser_owner",
    "is_owner_token",
    "new_owner_token",
    "oidc_owner",
    "visitor_label",
]

#: The owner of sessions made outside the web page: the CLI, scripts and tests.
LOCAL_OWNER = "local"
#: Random bytes in a browser's token: 32 bytes are 256 bits (issue 15 asks for >= 128).
OWNER_TOKEN_BYTES = 32
#: What ``secrets.token_urlsafe(32)`` gives: 43 url-safe characters. Longer ones are
#: accepted (up to 128) so a later, larger token still works; shorter ones never.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43,128}")


def new_owner_token() -> str:
    """A fresh browser token (256 random bits, url-safe)."""
    return secrets.token_urlsafe(OWNER_TOKEN_BYTES)


def is_owner_token(value: object) -> bool:
    """True for a string that can be a browser token (length and alphabet of token_urlsafe)."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def browser_owner(token: str) -> str:
    """The stored owner of a browser's sessions: a hash, never the token itself."""
    if not is_owner_token(token):
        raise ValueError("not a browser token")
    return "browser:" + hashlib.sha256(token.encode("ascii")).hexdigest()


def oidc_owner(claims: Mapping[str, object]) -> str | None:
    """The owner for a signed-in user's claims (``st.user``), or None without a stable claim."""
    sub, issuer, email = claims.get("sub"), claims.get("iss"), claims.get("email")
    if isinstance(sub, str) and sub.strip():
        prefix = issuer.strip() if isinstance(issuer, str) and issuer.strip() else "-"
        return f"oidc:{prefix}#{sub.strip()}"[:300]
    if isinstance(email, str) and "@" in email:
        return f"oidc:email:{email.strip().lower()}"[:300]
    return None


def visitor_label(owner: str) -> str:
    """A short, non-secret name for an owner, for the engine scheduler and the logs."""
    return hashlib.sha256(owner.encode("utf-8")).hexdigest()[:12]
