"""The Textual terminal UI (`fleet tui`, `fleet demo`): the only package that imports textual.

`app.FleetApp` is thin; `screens/` and `widgets/` render the manager's state; `feed`,
`history`, `table_model`, `backend` and friends hold the TUI's logic without Textual.
See docs/tui.md.
"""
