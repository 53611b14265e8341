"""The agent's Textual UI: the checks, the shift's work screen, what the gateway did, and help.
Built by `make_app` (app.py); one screen or widget per module, styles in homeagent.tcss."""
