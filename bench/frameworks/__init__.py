"""faust-streaming vs quixstreams vs Argus's own runtime, hosting one Argus processor on real Kafka.

See bench/frameworks/compare.py (`python -m bench.frameworks.compare`)."""
