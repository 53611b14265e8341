"""The running gateway: the mitmproxy data plane, its policy, and what they share."""
