"""The Telegram adapter: the application, its sender, and the local Bot API stand-in."""
