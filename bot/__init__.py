"""Cuppa: the Just a Cuppa and Reading Friends bot for Norfolk's libraries."""
