"""RUNTIME: what a board's inference runtime can run (boards that declare `Capability.RUNTIME`)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated

from fleet.errors import MalformedMessage
from fleet.protocol.header import MsgType
from fleet.protocol.messages.base import Message
from fleet.protocol.values import CUSTOM_OPERATOR, MAX_OP_NAME, Kind
from fleet.protocol.wire import U8, U16, List, Str8, str8


@dataclass(frozen=True, slots=True)
class Runtime(Message):
    """Ask what the board's runtime can run."""

    TYPE = MsgType.RUNTIME
    KIND = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class RuntimeInfo(Message):
    """The board's inference runtime and every operator it can run.

    `builtins` are TFLite BuiltinOperator codes, `customs` custom operator names; both are
    sets on the wire (no duplicates, order carries no meaning) and kept in wire order here.
    """

    TYPE = MsgType.RUNTIME
    KIND = Kind.RESPONSE
    runtime: str8
    builtins: Annotated[tuple[int, ...], List(U16, U16)] = ()
    customs: Annotated[tuple[str, ...], List(U8, Str8(MAX_OP_NAME))] = ()

    def encode(self) -> bytes:
        self._validate()  # the rules hold in both directions
        return Message.encode(self)

    def _validate(self) -> None:
        check_operators(self.runtime, self.builtins, self.customs, "RuntimeInfo")


def check_operators(runtime: str, builtins: tuple[int, ...], customs: tuple[str, ...], what: str) -> None:
    """The rules both directions enforce: sets without repeats, CUSTOM only by name, counts that fit,
    names without control characters."""
    if len(builtins) > 0xFFFF:
        raise MalformedMessage(f"{what}: {len(builtins)} builtin operators, at most 65535")
    if len(customs) > 0xFF:
        raise MalformedMessage(f"{what}: {len(customs)} custom operators, at most 255")
    if len(set(builtins)) != len(builtins):
        twice = next(code for code in builtins if builtins.count(code) > 1)
        raise MalformedMessage(f"{what}: builtin operator code {twice} is listed twice")
    if CUSTOM_OPERATOR in builtins:
        raise MalformedMessage(f"{what}: builtin code {CUSTOM_OPERATOR} (CUSTOM) is not an operator; customs go by name")
    if len(set(customs)) != len(customs):
        twice = next(name for name in customs if customs.count(name) > 1)
        raise MalformedMessage(f"{what}: custom operator {twice!r} is listed twice")
    if "" in customs:
        raise MalformedMessage(f"{what}: a custom operator name is empty")
    for name in (runtime, *customs):
        bad = next((ch for ch in name if unicodedata.category(ch) == "Cc"), None)
        if bad is not None:  # names end up on terminals; firmware keeps them as C strings
            raise MalformedMessage(f"{what}: {name!r} contains the control character U+{ord(bad):04X}")
