"""Complaint domain, pure: categories, routing, states, references."""
