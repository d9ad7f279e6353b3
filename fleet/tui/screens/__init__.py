"""Screens of the fleet TUI: the fleet (live or replay), a board, deploy, help, prompts."""
