"""The WhatsApp Cloud API channel (imported only when WhatsApp is configured)."""
