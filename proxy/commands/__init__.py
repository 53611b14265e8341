"""Subcommands of `homeagent-proxy`, one module per command group."""
