"""Board profiles: the real parts fleet knows (flash, RAM, clock, arena, ops, power).

Profiles are data in `profiles.toml`; this module validates and serves them. Virtual
boards are built from a profile, and model inspection checks a model's fit against each.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fleet.errors import ConfigError


class Profile(BaseModel):
    """One board type. Sizes in bytes, clock in Hz, power in mW."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    mcu: str
    cpu_hz: int = Field(gt=0)
    flash_bytes: int = Field(gt=0)
    ram_bytes: int = Field(gt=0)
    arena_bytes: int = Field(gt=0)
    slot_bytes: int = Field(gt=0)
    macs_per_cycle: float = Field(gt=0)
    idle_mw: float = Field(ge=0)
    active_mw: float = Field(ge=0)
    voltage_mv: int = Field(gt=0, lt=65536)
    usb: tuple[tuple[int, int], ...] = ()
    ops: frozenset[str]

    def supports(self, op: str) -> bool:
        return op in self.ops


@cache
def load_profiles() -> dict[str, Profile]:
    """All built-in profiles by name."""
    text = resources.files("fleet").joinpath("profiles.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    try:
        return {name: Profile(name=name, **table) for name, table in raw.items()}
    except ValidationError as exc:
        raise ConfigError(f"fleet/profiles.toml is invalid: {exc}") from None


def get_profile(name: str) -> Profile:
    """The profile called `name`; ConfigError naming the known ones otherwise."""
    profiles = load_profiles()
    try:
        return profiles[name]
    except KeyError:
        raise ConfigError(f"unknown board profile {name!r}; known profiles: {', '.join(sorted(profiles))}") from None
