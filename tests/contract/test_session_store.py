"""The workbench session store's contract, on every backend: what one API process opens or ends,
every other honours; deadlines hold; only digests are kept."""

from __future__ import annotations

import pytest

from argus.security.identity import AuthError
from argus.security.sessions import SessionStore, digest
from tests.contract.conftest import Handles


def test_a_session_opened_by_one_process_resolves_in_another(session_stores: Handles) -> None:
    a, b = session_stores(), session_stores()
    token, s = a.open("u1", "analyst", "api_key", now=1000.0)
    got = b.resolve(token, now=1001.0)
    assert (got.subject, got.role, got.method, got.csrf) == ("u1", "analyst", "api_key", s.csrf)
    assert got.id == digest(token) != token


def test_logout_in_one_process_is_refused_by_every_other(session_stores: Handles) -> None:
    a, b = session_stores(), session_stores()
    token, _ = a.open("u1", "analyst", "api_key", now=1000.0)
    assert b.end(token)
    assert not b.end(token)  # ended once
    with pytest.raises(AuthError, match="ended"):
        a.resolve(token, now=1001.0)


def test_idle_and_absolute_deadlines(session_stores: Handles) -> None:
    st: SessionStore = session_stores().limits(idle=60, absolute=300)
    token, _ = st.open("u1", "analyst", "api_key", now=1000.0)
    for t in (1050.0, 1100.0, 1150.0, 1200.0, 1250.0):  # active every 50 s: idle never reached
        st.resolve(token, now=t)
    with pytest.raises(AuthError, match="too old"):
        st.resolve(token, now=1301.0)
    idle_token, _ = st.open("u2", "analyst", "api_key", now=2000.0)
    with pytest.raises(AuthError, match="idle"):
        st.resolve(idle_token, now=2061.0)


def test_ending_a_subject_ends_all_their_sessions_only(session_stores: Handles) -> None:
    st = session_stores()
    mine = [st.open("u1", r, "api_key", now=1000.0)[0] for r in ("analyst", "supervisor")]
    other, _ = st.open("u2", "analyst", "api_key", now=1000.0)
    assert st.end_subject("u1") == 2
    for t in mine:
        with pytest.raises(AuthError):
            st.resolve(t, now=1001.0)
    assert st.resolve(other, now=1001.0).subject == "u2"


def test_unknown_and_malformed_tokens_and_csrf(session_stores: Handles) -> None:
    st = session_stores()
    token, s = st.open("u1", "analyst", "api_key", now=1000.0)
    for bad in ("ses_nothing", "argus_x_y", "ses_" + "a" * 200, token + "x"):
        with pytest.raises(AuthError):
            st.resolve(bad, now=1001.0)
    assert SessionStore.csrf_ok(s, s.csrf)
    assert not SessionStore.csrf_ok(s, None) and not SessionStore.csrf_ok(s, "") and not SessionStore.csrf_ok(s, "x")
