"""Byte pipes to boards: serial ports and URLs (pyserial), and in-memory pipes for tests."""

from fleet.transport.base import Transport

__all__ = ["Transport"]
