"""Inkling: honest email tracking for customer-support teams."""

__version__ = "0.1.0"
