"""Real-server fixtures live in tests/conftest.py (the contract suites use them too)."""
