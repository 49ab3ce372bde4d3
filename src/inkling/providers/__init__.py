"""Events from elsewhere: ESP webhooks and files of sends, hits and inbound events."""
