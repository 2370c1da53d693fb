"""One decode per record per process, and every reader still holding a value of its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from argus.bus.base import Message
from argus.runtime.decoded import SharedDecoder, tree_copy


def msg(offset: int, topic: str = "resolved") -> Message:
    return Message(topic, 0, offset, None, b"x", 0, None)


def counting(value: dict) -> tuple[list[int], object]:
    calls: list[int] = []

    def decode(m: Message) -> dict:
        calls.append(m.offset)
        return tree_copy(value)

    return calls, decode


def test_three_readers_decode_once_and_none_sees_anothers_changes() -> None:
    value = {"body": {"entities": [{"id": "e1"}]}, "at": datetime(2026, 1, 1, tzinfo=UTC)}
    calls, decode = counting(value)
    shared = SharedDecoder(lambda t, p: 3)
    got = [shared.decode(msg(7), decode) for _ in range(3)]
    assert calls == [7]
    assert got[0] == got[1] == got[2] == value
    got[0]["body"]["entities"].append({"id": "changed by reader 0"})
    got[1]["body"]["entities"][0]["id"] = "changed by reader 1"
    assert got[2] == value  # the last reader's is the kept value, which no one else was handed
    assert got[0] is not got[1] and got[1] is not got[2]
    assert shared.decode(msg(7), decode) == value and calls == [7, 7]  # all read: nothing kept


def test_a_lone_reader_is_not_kept_for_and_a_full_cache_forgets_the_oldest() -> None:
    calls, decode = counting({"a": 1})
    alone = SharedDecoder(lambda t, p: 1)
    alone.decode(msg(1), decode)
    assert not alone._kept
    shared = SharedDecoder(lambda t, p: 2, limit=2)
    for off in (1, 2, 3):
        shared.decode(msg(off), decode)
    assert sorted(k[2] for k in shared._kept) == [2, 3]
    shared.decode(msg(1), decode)  # forgotten: decoded again
    assert calls.count(1) == 3


def test_a_record_that_cannot_be_decoded_fails_for_every_reader() -> None:
    def bad(m: Message) -> dict:
        raise ValueError("cannot decode")

    shared = SharedDecoder(lambda t, p: 2)
    for _ in range(2):
        with pytest.raises(ValueError):
            shared.decode(msg(1), bad)
    assert not shared._kept


def test_readers_that_never_change_it_share_one_value_and_the_others_get_their_own() -> None:
    value = {"body": {"entities": [{"id": "e1"}]}}
    calls, decode = counting(value)
    shared = SharedDecoder(lambda t, p: 4)
    a = shared.decode(msg(3), decode, shares=True)
    own = shared.decode(msg(3), decode)
    b = shared.decode(msg(3), decode, shares=True)
    last = shared.decode(msg(3), decode)  # last, but the value went out shared: a copy still
    assert calls == [3] and a is b
    assert own is not a and last is not a and own == last == a == value
    own["body"]["entities"].clear()
    last["body"]["entities"].clear()
    assert a == value and not shared._kept
    calls, decode = counting(value)
    only_sharing = SharedDecoder(lambda t, p: 2)
    assert only_sharing.decode(msg(1), decode, shares=True) is only_sharing.decode(msg(1), decode, shares=True)
