"""Outbound delivery: sending the outbox within Telegram's limits, surviving crashes."""
