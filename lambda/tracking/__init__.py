"""Tracking API function: ingests carrier tracking updates and answers status queries."""
