"""Security in the data path: what a recipient may see of a record."""
