"""The programme's statistics and report, pure: aggregation, suppression, rendering."""
