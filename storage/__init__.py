"""Storage ports, frozen records, and the SQLite implementation."""
