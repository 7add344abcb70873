"""Job and conversation ids: random, URL-safe, and never read as an option on a command line."""

from __future__ import annotations

import secrets

import pytest

from claude_web import _ids
from claude_web.jobs._model import _JOB_ID
from claude_web.jobs._service import new_job_id
from claude_web.web.conversations.records import new_conversation_id


def test_a_draw_starting_with_a_dash_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["-leading", "-again", "fine-one"])
    asked: list[int] = []

    def token_urlsafe(nbytes: int) -> str:
        asked.append(nbytes)
        return next(draws)

    monkeypatch.setattr(secrets, "token_urlsafe", token_urlsafe)
    assert _ids.random_id(12) == "fine-one"
    assert asked == [12, 12, 12]


def test_ids_are_url_safe_and_never_start_with_a_dash() -> None:
    # one draw in 64 starts with "-": 3,000 draws of each without one would be chance only once in 10**20
    jobs = {new_job_id() for _ in range(3000)}
    conversations = {new_conversation_id() for _ in range(3000)}
    assert len(jobs) == 3000 and len(conversations) == 3000
    assert all(len(j) == 24 and _JOB_ID.match(j) for j in jobs)
    assert all(len(c) == 16 for c in conversations)
    assert not [i for i in jobs | conversations if i.startswith("-")]
    assert any("-" in i for i in jobs | conversations)  # still the URL-safe alphabet, dash included
