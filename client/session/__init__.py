"""The agent's standing with the gateway: enrolment, device key, session, status."""
