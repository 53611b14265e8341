"""homeagent-proxy: the company's secure gateway."""
