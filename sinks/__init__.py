"""Sinks: write resolved records into stores, idempotently (upsert by deterministic id)."""
