"""`--to TARGET`: which boards a command acts on.

A target is a comma-separated list of: `all`, a board name, a tag, a group from
devices.toml, a board uid (or a unique prefix of at least 4 hex digits), or a port.
Unknown words are a configuration error that lists what exists.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from fleet.config import FleetConfig
from fleet.errors import ConfigError


class Addressable(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def uid(self) -> str | None: ...
    @property
    def port(self) -> str: ...
    @property
    def tags(self) -> tuple[str, ...]: ...


B = TypeVar("B", bound=Addressable)


def select(boards: list[B], config: FleetConfig, spec: str) -> list[B]:
    """The boards `spec` names, in the order of `boards`, without duplicates."""
    words = [w.strip() for w in spec.split(",") if w.strip()]
    if not words:
        raise ConfigError("empty target: name boards, tags or groups, or use 'all'")
    chosen: set[int] = set()
    for word in words:
        hits = _match(boards, config, word)
        if not hits:
            raise ConfigError(f"no board, tag, group, uid or port matches {word!r}; {_known(boards, config)}")
        chosen.update(hits)
    return [b for i, b in enumerate(boards) if i in chosen]


def _match(boards: list[B], config: FleetConfig, word: str) -> set[int]:
    if word == "all":
        return set(range(len(boards)))
    members = set(config.groups.get(word, ()))
    hits = {i for i, b in enumerate(boards) if b.name == word or word in b.tags or b.name in members or b.port == word}
    if hits:
        return hits
    if len(word) >= 4 and all(c in "0123456789abcdefABCDEF" for c in word):
        return {i for i, b in enumerate(boards) if b.uid and b.uid.startswith(word.lower())}
    return set()


def _known(boards: list[Addressable], config: FleetConfig) -> str:
    names = sorted(b.name for b in boards)
    tags = sorted({t for b in boards for t in b.tags})
    parts = [f"boards: {', '.join(names) or 'none found'}"]
    if tags:
        parts.append(f"tags: {', '.join(tags)}")
    if config.groups:
        parts.append(f"groups: {', '.join(sorted(config.groups))}")
    return "; ".join(parts)
