"""Robustness: the store survives a command killed at any moment, and a full disk."""
