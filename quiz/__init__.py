"""Quiz domain, pure: sessions, scoring, leaderboards."""
