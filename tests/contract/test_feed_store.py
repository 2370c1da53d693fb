"""The feed registry contract, on every backend (embedded SQLite, OpenSearch): what one handle
adds another lists at once (the API adds, the running poller reads), names are unique unless
replaced, removal, and secrets: never shown by public(); on the shared server registry only as
env:NAME references."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from argus.feeds import FeedError, FeedSpec, FeedStore

Opener = Callable[[], FeedStore]


def spec(name: str, **kw: object) -> FeedSpec:
    base = {"url": "https://taxii.partner.example/api1", "collection": "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
            "agency": "CA0430000"}  # fmt: skip
    return FeedSpec.model_validate({"name": name, **base, **kw})


def test_added_listed_replaced_removed_across_handles(feed_stores: Opener) -> None:
    api, poller = feed_stores(), feed_stores()
    api.add(spec("neighbour", token="env:NEIGHBOUR_TOKEN", types=["indicator"]), "analyst1")
    api.add(spec("alpha", poll_interval=60), "analyst1")
    assert [f.name for f in poller.list()] == ["alpha", "neighbour"]  # seen at once, by name
    got = poller.get("neighbour")
    assert got == spec("neighbour", token="env:NEIGHBOUR_TOKEN", types=["indicator"])
    assert got is not None and got.url == "https://taxii.partner.example/api1/"
    with pytest.raises(FeedError, match="exists"):
        api.add(spec("alpha"), "analyst2")
    api.add(spec("alpha", poll_interval=30), "analyst2", replace=True)
    assert poller.get("alpha") == spec("alpha", poll_interval=30)
    assert api.remove("alpha") is True and api.remove("alpha") is False
    assert [f.name for f in poller.list()] == ["neighbour"] and poller.get("alpha") is None


def test_secrets(feed_stores: Opener, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = feed_stores()
    monkeypatch.setenv("PARTNER_PW", "s3cret")
    reg.add(spec("byenv", username="argus", password="env:PARTNER_PW"), "admin1")
    (f,) = reg.list()
    assert f.secret("password") == "s3cret" and f.public()["password"] == "env:PARTNER_PW"
    literal = spec("literal", token="plain-token")
    assert literal.public()["token"] == "***"
    if feed_stores.backend == "opensearch":  # type: ignore[attr-defined]
        with pytest.raises(FeedError, match="env:NAME"):
            reg.add(literal, "admin1")  # a shared cluster never holds a secret itself
        assert reg.get("literal") is None
    else:
        reg.add(literal, "admin1")  # the embedded registry is a file only its owner reads
        stored = reg.get("literal")
        assert stored is not None and stored.secret("token") == "plain-token"
