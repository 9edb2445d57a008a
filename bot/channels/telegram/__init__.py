"""The Telegram channel, on aiogram 3 (imported only when Telegram is configured)."""
