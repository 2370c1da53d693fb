"""Stream processors: pure functions of (record, keyed state), hosted by any runtime."""
