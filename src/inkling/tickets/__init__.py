"""Tickets from helpdesks: upserts, their validation, and helpdesks' own webhook payloads."""
