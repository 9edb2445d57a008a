"""Complaint intake, submission, notices, deadlines and the CSO's actions."""
