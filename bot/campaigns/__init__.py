"""Public information campaigns: the file format, the schedule and the commands' logic."""
