"""Interface strings per language, with French as the fallback, and the global keywords."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from content.text import fold

log = logging.getLogger(__name__)

COMMANDS = (
    "menu",
    "help",
    "language",
    "stop",
    "resume",
    "forget",
    "complaint",
    "quiz",
    "circle",
    "barometer",
    "mine",
    "profile",
)


class _Params(dict[str, Any]):
    """Format parameters that leave an unknown placeholder visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Turn nested YAML mappings into dotted keys."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = str(value)
    return flat


@dataclass(frozen=True, slots=True)
class Texts:
    """All interface strings and keywords of a pack."""

    fallback: str
    catalogs: Mapping[str, Mapping[str, str]]
    # folded keyword -> command, across every language: people mix French and Bambara.
    keywords: Mapping[str, str]

    @classmethod
    def build(
        cls,
        fallback: str,
        catalogs: Mapping[str, Mapping[str, str]],
        keywords: Mapping[str, Mapping[str, list[str]]],
    ) -> Texts:
        """Index the keywords of every language."""
        index: dict[str, str] = {}
        for per_command in keywords.values():
            for command, words in per_command.items():
                for word in words:
                    if fold(word):
                        index.setdefault(fold(word), command)
        return cls(fallback, catalogs, index)

    def get(self, lang: str | None, key: str, **params: Any) -> str:
        """Return the string for `key` in `lang`, else French, else the key itself."""
        catalog = self.catalogs.get(lang or self.fallback, {})
        template = catalog.get(key)
        if template is None:
            template = self.catalogs[self.fallback].get(key)
            if template is None:
                log.error("missing interface string %s", key)
                return key
        return template.format_map(_Params(params)) if params else template

    def command_for(self, text: str) -> str | None:
        """The global command a whole message names (`menu`, `aide`, `dɛmɛ`...), if any."""
        return self.keywords.get(fold(text))
