"""Sources: each validates its input and publishes Avro records; bad input becomes a dead letter."""
