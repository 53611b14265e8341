"""homeagent client: the agent's terminal UI and home-setup checks."""
