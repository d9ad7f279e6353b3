"""Emulated power meters in virtual boards' supplies (`fleet sim --meter`): a PPK2 and an
LPM01A that speak the real instruments' serial protocols (fleet.meters' protocol modules) on
their own PTYs, fed by the board's activity. See docs/power.md.
"""
