"""Withhold unreviewed translations where the deployment asks to: French is shown instead."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from content.units import is_language_map

M = TypeVar("M", bound=BaseModel)


def _strip(node: Any, lang: str) -> Any:
    if is_language_map(node):
        return {k: v for k, v in node.items() if k != lang}
    if isinstance(node, dict):
        return {k: _strip(v, lang) for k, v in node.items()}
    if isinstance(node, list):
        return [_strip(item, lang) for item in node]
    return node


def without(model: M, lang: str) -> M:
    """The record with its `lang` texts removed when they are marked needs_review."""
    marks = getattr(model, "needs_review", None)
    if not isinstance(marks, dict) or not marks.get(lang):
        return model
    return type(model).model_validate(_strip(model.model_dump(), lang))
