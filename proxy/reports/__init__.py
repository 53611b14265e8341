"""The supervisor's reports: attendance, time in status, security events, and who is on the
floor now. Pure computations over rows the store hands out; no I/O, no textual."""
