"""Errors the function maps to HTTP responses; the mapping itself lives in ``app``."""

from typing import Optional


class TrackingError(Exception):
    """Base of every error this function raises on purpose."""


class RequestInvalid(TrackingError):
    """The request broke the contract: 400, with one entry per broken rule."""

    def __init__(self, message: str, errors: Optional[list] = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class ShipmentNotFound(TrackingError):
    """No update exists for the tracking id: 404."""


class StorageUnavailable(TrackingError):
    """The table did not accept or return data after bounded retries."""


class ParkingFailed(TrackingError):
    """An update could be neither stored nor parked on the dead letter queue: 503."""


class ConfigurationError(TrackingError):
    """The function's environment is incomplete or invalid; raised at cold start."""
