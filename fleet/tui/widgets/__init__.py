"""Widgets of the fleet TUI; each renders state it is handed and posts typed messages."""
