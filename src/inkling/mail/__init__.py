"""Mail plumbing shared by the relay, the inbound MX and the API: header fields edited as
bytes, the SMTP listener thread, and the return addresses that name their copy."""
