"""Who is visiting: a signed-in user (``st.login``), else this browser's owner token.

Streamlit cannot set cookies, so the browser keeps its token in ``localStorage``
through the tiny components-v2 element below (no CDN, inline JS, no visible
output). On its first run a tab does not know the token yet (the element
reports it a moment later, in a rerun), so it starts with a provisional owner,
a secret of that tab alone; when the stored token arrives, anything the tab
saved meanwhile is handed to the browser's owner (:meth:`Store.transfer_sessions`).
AppTest runs no JavaScript, so there the provisional owner is the owner.

Signing in is offered only when the operator configured ``[auth]`` in
``.streamlit/secrets.toml`` (README, "Running it for a club"); a signed-in
visitor's sessions belong to the user (``oidc:...``), on any browser.
Sessions a browser made anonymously stay the browser's (a club computer is
shared: signing in must not take over what others left in its browser).
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from chessapp import owners
from chessapp.errors import ChessAppError
from chessapp.ui import state, widgets

log = logging.getLogger(__name__)

_JS = r"""
export default function (component) {
  const { data, setStateValue } = component;
  if (!data) return;
  const KEY = "chessapp.owner";
  let token = null;
  try {
    token = window.localStorage.getItem(KEY);
    if (!token || !/^[A-Za-z0-9_-]{43,128}$/.test(token)) {
      token = data.candidate;
      window.localStorage.setItem(KEY, token);
    }
  } catch (err) {
    // Storage refused (private mode, blocked): this tab keeps its provisional owner.
    return;
  }
  setStateValue("token", token);
}
"""

_element = st.components.v2.component("chessapp_owner_token", js=_JS)


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def _signed_in_owner() -> str | None:
    try:
        if not st.user.is_logged_in:
            return None
        claims: dict[str, Any] = dict(st.user.to_dict())
    except Exception:  # auth not configured, or Authlib missing
        return None
    return owners.oidc_owner(claims)


def mount() -> None:
    """Draw the (invisible) token element; call once per full run of each page."""
    _element(key=state.OWNER_ELEMENT, data={"candidate": state.provisional_owner_token()},
             on_token_change=lambda: None, width="content", height="content")


def current_owner() -> str:
    """The owner of what this visitor saves: the signed-in user, else this browser."""
    user = _signed_in_owner()
    if user is not None:
        return user
    token = state.stored_owner_token()
    provisional = owners.browser_owner(state.provisional_owner_token())
    if token is None:
        return provisional
    owner = owners.browser_owner(token)
    if owner != provisional and not state.provisional_handed_over():
        _hand_over(provisional, owner)
    return owner


def _hand_over(provisional: str, owner: str) -> None:
    """Sessions this tab saved before its browser's token arrived become the browser's."""
    try:
        moved = widgets.shared_store().transfer_sessions(provisional, owner)
    except ChessAppError as exc:
        log.warning("could not hand this tab's sessions to its browser: %s", exc)
        return
    state.set_provisional_handed_over()
    session = state.analysis_session()
    if session is not None and session.owner == provisional:
        session.owner = owner
    if moved:
        log.info("handed %d session(s) of a new tab to its browser", moved)


def tab_label() -> str:
    """This tab's own name for the jobs it runs on someone else's session: the same for
    the life of the tab, whoever it turns out to be (not a secret: a hash)."""
    return owners.visitor_label(owners.browser_owner(state.provisional_owner_token()))


def visitor() -> str:
    """The scheduler's name for this visitor (a hash: never the token)."""
    return owners.visitor_label(current_owner())


def sign_in_controls() -> None:
    """In the sidebar: who you are, and Sign in / Sign out where ``st.login`` is set up."""
    if not _auth_configured():
        return
    with st.sidebar:
        if _signed_in_owner() is not None:
            name = st.user.get("name") or st.user.get("email") or "you"
            st.text(f"Signed in as {name}")
            st.button("Sign out", key=state.SIGN_OUT_BUTTON, on_click=st.logout)
        else:
            st.caption("Sessions are kept for this browser. Sign in to keep them "
                       "for your account instead.")
            st.button("Sign in", key=state.SIGN_IN_BUTTON, on_click=st.login)
