"""The home-setup checks: one module per check, each pure of any terminal UI."""
