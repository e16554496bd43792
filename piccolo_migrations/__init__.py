"""Piccolo migrations of the `cinema` app (applied by `cinema db migrate`)."""
