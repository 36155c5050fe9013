"""Names of the business metrics the function publishes and the dashboard reads.

The function publishes them with Powertools Metrics (embedded metric format) in
``NAMESPACE``, with the ``service`` dimension Powertools adds and an ``environment``
default dimension. The metric names come from the function's own contract module,
so the function and the dashboard use one list.
"""

from shared import naming
from shared.contract import function_contract

NAMESPACE = naming.METRICS_NAMESPACE
SERVICE = naming.SERVICE_NAME

# Powertools Metrics names the service dimension "service".
SERVICE_DIMENSION = "service"
ENVIRONMENT_DIMENSION = function_contract.METRIC_ENVIRONMENT_DIMENSION

UPDATES_CREATED = function_contract.METRIC_UPDATES_CREATED
UPDATES_DUPLICATE = function_contract.METRIC_UPDATES_DUPLICATE
UPDATES_QUEUED = function_contract.METRIC_UPDATES_QUEUED
UPDATES_REJECTED = function_contract.METRIC_UPDATES_REJECTED
STATUS_LOOKUPS = function_contract.METRIC_STATUS_LOOKUPS
STATUS_NOT_FOUND = function_contract.METRIC_STATUS_NOT_FOUND
PARKING_FAILED = function_contract.METRIC_PARKING_FAILED

BUSINESS_METRICS = tuple(function_contract.BUSINESS_METRICS)

# DynamoDB operations the function calls on the table (lambda/tracking/store.py). DynamoDB
# publishes latency, throttling and system errors per operation, so the dashboard and the
# system-error alarm read each one.
# NOTE: a new kind of table call in the function needs its operation added here.
TABLE_OPERATIONS = ("PutItem", "Query")


def dimensions(environment: str) -> dict:
    """Return the dimensions of every business metric in one environment."""
    return {SERVICE_DIMENSION: SERVICE, ENVIRONMENT_DIMENSION: environment}
