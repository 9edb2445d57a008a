"""The Good Governance Barometer's domain, pure: scoring rounds, comparing them."""
