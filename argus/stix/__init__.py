"""STIX 2.1: markings, deterministic identifiers, export (objects are stored by argus.stores.stix)."""
