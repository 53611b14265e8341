"""The floor manager's live view (`homeagent-proxy agents watch`): a Textual screen of who is
clocked in, in which status, for how long. The only part of the gateway that imports textual."""
