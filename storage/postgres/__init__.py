"""The PostgreSQL store: several bot processes sharing one database."""
