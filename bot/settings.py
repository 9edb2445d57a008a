"""Settings from `CIVICBOT_*` environment variables and an optional `.env` file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from content.pack import BUNDLED_PACK


class Settings(BaseSettings):
    """Every setting of a deployment; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(
        env_prefix="CIVICBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    db: Path = Field(default=Path("var/civicbot.sqlite3"), description="SQLite database file")
    content: Path = Field(default=BUNDLED_PACK, description="content pack folder")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["plain", "json"] = "plain"
    conversation_ttl_minutes: int = Field(default=24 * 60, ge=1)
    max_text_length: int = Field(default=4000, ge=100)
    complaints_per_day: int = Field(default=5, ge=1, description="new complaints per user a day")
    # Languages whose voice-note drafts are played before the desk approves them ("bm,fr").
    audio_drafts: str = Field(default="", pattern=r"^[a-z, ]*$")
    # Delivery worker: how often it looks for due messages, and how hard it retries.
    delivery_interval_seconds: float = Field(default=2.0, gt=0)
    delivery_max_attempts: int = Field(default=8, ge=1)
    delivery_backoff_seconds: float = Field(default=30.0, gt=0)
    # How long a process keeps a message it is sending before another process may take it
    # (the rows of a process that died are sent by another one after this).
    delivery_lease_seconds: float = Field(default=60.0, ge=1)
    inbound_retention_days: int = Field(default=7, ge=1)
    telegram_token: SecretStr | None = None
    # Webhook mode when set (the public HTTPS address of /telegram/webhook); polling otherwise.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Another Bot API server: a self-hosted one, or a fake one in tests.
    telegram_api_url: str | None = None
    # Flood control, as Telegram asks: about 30 messages/s overall, 1/s per chat, 20/min per group.
    telegram_rate_global: float = Field(default=30.0, gt=0)
    telegram_rate_chat: float = Field(default=1.0, gt=0)
    telegram_rate_group_per_minute: float = Field(default=20.0, gt=0)
    http_host: str = "0.0.0.0"  # noqa: S104 - the webhook must be reachable by the platforms
    http_port: int = Field(default=8080, ge=1, le=65535)
    # Partner systems POST Open311 requests with this key; unset, POST is refused.
    open311_api_key: SecretStr | None = None
    # The one jurisdiction_id Open311 accepts (others get 404); unset, the content pack's id.
    open311_jurisdiction: str | None = None
    # WhatsApp Cloud API: the access token and the business phone number's id turn it on.
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_id: str | None = None
    # Meta signs each webhook call with the app secret; the verify token answers its handshake.
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    # The Graph API base, version included: another one for tests and proxies.
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_rate: float = Field(default=80.0, gt=0, description="messages per second")
    # Approved templates for messages outside the 24-hour window, by outbox kind (JSON:
    # {"notice": "civicbot_notice", ...}); a kind without one waits until the user writes.
    whatsapp_templates: dict[str, str] = Field(default_factory=dict)
    # Languages the templates are approved in, comma-separated; the first is the fallback.
    whatsapp_template_languages: str = "fr"
    # Campaign messages wait for the morning in this daily window (Mali time is UTC all year);
    # "off" sends at any hour.
    staff_lang: Literal["fr", "en"] = Field(
        default="fr", description="language of the staff's command-line tools and reports"
    )
    cso_digest_hour: int | None = Field(
        default=None, ge=0, le=23, description="UTC hour of the CSOs' daily digest (off if unset)"
    )
    quiet_hours: str = Field(default="21:00-07:00", pattern=r"^(off|\d\d:\d\d-\d\d:\d\d)$")

    @property
    def conversation_ttl(self) -> timedelta:
        """How long an idle conversation keeps its place."""
        return timedelta(minutes=self.conversation_ttl_minutes)

    @property
    def channels(self) -> list[str]:
        """The chat platforms configured; none means the terminal."""
        found = []
        if self.telegram_token:
            found.append("telegram")
        if self.whatsapp_token and self.whatsapp_phone_id:
            found.append("whatsapp")
        return found
