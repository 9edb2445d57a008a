"""Help at once for a message about danger: detecting it and answering."""
