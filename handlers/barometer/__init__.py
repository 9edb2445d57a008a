"""The Good Governance Barometer: answering, rounds, CSO commands."""
