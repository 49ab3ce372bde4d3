"""Webhooks: subscriptions, an outbox, signed delivery with retries; the live feed."""
