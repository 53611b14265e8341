"""The `homeagent` subcommands: one module each, with `register(subparsers)`."""
