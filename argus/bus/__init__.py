"""Message buses: the embedded default (SQLite logs on disk) behind one interface."""

from argus.bus.base import Bus, Commit, Message, partition_for

__all__ = ["Bus", "Commit", "Message", "partition_for"]
