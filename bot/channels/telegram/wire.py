"""The Bot API calls of every update (getUpdates, sendMessage, answerCallbackQuery) as JSON.

aiogram builds a pydantic model for each call, dumps it, form-encodes it and validates the
answer into more models: for a menu with its keyboard that cost more CPU than the HTTP call
itself (bench/telegram.py). These calls go over aiogram's own HTTP session (its API server,
proxy and timeout) with a JSON body, and read only what we use. An error answer is read by
aiogram's own `check_response`, so callers get the exceptions they always got.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import AnswerCallbackQuery, GetUpdates, SendMessage, TelegramMethod
from aiohttp import ClientError, ClientTimeout

from storage import fastjson

log = logging.getLogger(__name__)

JSON = {"Content-Type": "application/json"}
# A long poll is answered after up to its own timeout: the request may take that much longer.
POLL_MARGIN = 10.0


class Wire:
    """The calls of every update, for one bot, without aiogram's models on the way."""

    def __init__(self, bot: Bot) -> None:
        if not isinstance(bot.session, AiohttpSession):
            raise TypeError("the Telegram channel needs aiogram's aiohttp session")
        self._bot = bot
        self._session: AiohttpSession = bot.session

    async def get_updates(
        self, offset: int | None, poll_seconds: int, allowed: list[str]
    ) -> list[dict[str, Any]]:
        """The next updates, as Telegram sent them."""
        params: dict[str, Any] = {"timeout": poll_seconds, "allowed_updates": allowed}
        if offset is not None:
            params["offset"] = offset
        wait = max(float(self._session.timeout), poll_seconds + POLL_MARGIN)
        result = await self._call(GetUpdates, params, wait)
        if not isinstance(result, list):
            raise TelegramAPIError(GetUpdates.model_construct(**params), "updates are not a list")
        # Telegram numbers every update; one without its number could never be confirmed.
        updates = [u for u in result if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        if len(updates) < len(result):
            log.warning("%d unnumbered Telegram updates ignored", len(result) - len(updates))
        return updates

    async def send_message(
        self, chat_id: int, text: str, markup: dict[str, Any] | None = None
    ) -> int:
        """Send an HTML message (with its inline keyboard); return its message id."""
        params: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
        if markup is not None:
            params["reply_markup"] = markup
        result = await self._call(SendMessage, params, float(self._session.timeout))
        if not isinstance(result, dict) or not isinstance(result.get("message_id"), int):
            raise TelegramAPIError(SendMessage.model_construct(**params), "no message id")
        return int(result["message_id"])

    async def answer_callback(self, query_id: str, alert: str | None) -> None:
        """Stop a tapped button's spinner; `alert` shows a text only the tapping member sees."""
        params: dict[str, Any] = {"callback_query_id": query_id}
        if alert:
            params |= {"text": alert, "show_alert": True}
        await self._call(AnswerCallbackQuery, params, float(self._session.timeout))

    async def _call(
        self, method: type[TelegramMethod[Any]], params: dict[str, Any], seconds: float
    ) -> Any:
        http = await self._session.create_session()
        url = self._session.api.api_url(token=self._bot.token, method=method.__api_method__)
        body = fastjson.dumps_bytes(params)
        try:
            async with http.post(
                url, data=body, headers=JSON, timeout=ClientTimeout(total=seconds)
            ) as response:
                raw = await response.read()
                status = response.status
        except TimeoutError as exc:
            # The same errors aiogram raises, so that a timeout still counts as unknown.
            raise TelegramNetworkError(
                method.model_construct(**params), "Request timeout error"
            ) from exc
        except ClientError as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise TelegramNetworkError(method.model_construct(**params), message) from exc
        if status == 200:
            try:
                answer = fastjson.loads(raw)
            except ValueError:
                answer = None
            if isinstance(answer, dict) and answer.get("ok") is True:
                return answer.get("result")
        # An error (or an answer we cannot read): aiogram says which, as it always did.
        self._session.check_response(
            bot=self._bot,
            method=method.model_construct(**params),
            status_code=status,
            content=raw.decode("utf-8", "replace"),
        )
        raise TelegramAPIError(method.model_construct(**params), "unexpected answer")
