"""Runtimes that host nodes: the embedded one here; Kafka in its own module."""
