"""Lambda entry point: routes POST /track and GET /status and maps errors to responses.

All exception-to-response mapping is here: the service raises, and this module turns each error into a response.
"""

import binascii
import json
import os
from functools import lru_cache

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracking import aws, contract
from tracking.config import load_config
from tracking.errors import ParkingFailed, RequestInvalid, ShipmentNotFound, StorageUnavailable
from tracking.observability import logger, metrics, tracer
from tracking.parking import DeadLetterParking
from tracking.service import TrackingService
from tracking.store import TrackingStore
from tracking.validation import invalid_body, parse_body

JSON = "application/json"

app = APIGatewayRestResolver()


@lru_cache(maxsize=1)
def service() -> TrackingService:
    """Build the service on the first request, from the environment the stack set."""
    config = load_config()
    # Its own client, with the bounded retries of tracking.aws: Powertools' default client would
    # wait up to a minute per attempt, past the function's timeout.
    parameter_store = parameters.SSMProvider(boto3_client=aws.client("ssm", config.region))

    def token_key() -> bytes:
        # Decrypted at run time and cached for max_age seconds; the value never enters the environment.
        value = parameter_store.get(
            config.page_token_key_parameter, decrypt=True, max_age=config.parameter_max_age_seconds
        )
        return value.encode("utf-8")

    return TrackingService(
        config,
        TrackingStore(config.table_name, aws.client("dynamodb", config.region), config.item_retention_days),
        DeadLetterParking(config.dead_letter_queue_url, aws.client("sqs", config.region)),
        token_key,
    )


def _json_response(status: int, body: dict) -> Response:
    # ASCII-only JSON: a value quoted in an error message may hold characters UTF-8 cannot encode.
    return Response(status_code=status, content_type=JSON, body=json.dumps(body))


def _request_id() -> str:
    # Events from a test console or a hand-made client may lack the request context.
    return (app.current_event.get("requestContext") or {}).get("requestId") or ""


@app.post(contract.TRACK_PATH)
@tracer.capture_method
def track() -> Response:
    try:
        raw = app.current_event.decoded_body
    except (UnicodeDecodeError, binascii.Error):
        raise invalid_body("body is not valid UTF-8 text or base64") from None
    context = app.lambda_context
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    status, body = service().ingest(parse_body(raw), _request_id(), remaining)
    return _json_response(status, body)


@app.get(contract.STATUS_PATH)
@tracer.capture_method
def status() -> Response:
    repeated = {
        name: len(values)
        for name, values in (app.current_event.multi_value_query_string_parameters or {}).items()
        if len(values) > 1
    }
    if repeated:
        raise RequestInvalid(
            "invalid query string",
            [
                {"field": name, "rule": "repeated", "message": f"{name} is given {count} times; send it once"}
                for name, count in repeated.items()
            ],
        )
    params = dict(app.current_event.query_string_parameters or {})
    return _json_response(200, service().status(params))


@app.exception_handler(RequestInvalid)
def _on_invalid(exc: RequestInvalid) -> Response:
    if app.current_event.resource == contract.TRACK_PATH:
        metrics.add_metric(name=contract.METRIC_UPDATES_REJECTED, unit=MetricUnit.Count, value=1)
    logger.info("request rejected", reason=exc.message, errors=exc.errors[:5])
    return _json_response(400, {"message": exc.message, "errors": exc.errors})


@app.exception_handler(ShipmentNotFound)
def _on_not_found(exc: ShipmentNotFound) -> Response:
    return _json_response(404, {"message": str(exc)})


@app.exception_handler(ParkingFailed)
def _on_parking_failed(exc: ParkingFailed) -> Response:
    logger.error("update neither stored nor parked", error=str(exc))
    return _json_response(
        503,
        {
            "message": "the update could not be stored right now and nothing was "
            "acknowledged; retry with the same body",
            "request_id": _request_id(),
        },
    )


@app.exception_handler(StorageUnavailable)
def _on_storage_unavailable(exc: StorageUnavailable) -> Response:
    logger.error("status lookup failed", error=str(exc))
    return _json_response(
        503, {"message": "status lookups are unavailable right now; retry later", "request_id": _request_id()}
    )


@app.exception_handler(parameters.exceptions.GetParameterError)
def _on_parameter_error(exc: Exception) -> Response:
    logger.error("page token key could not be read", error=str(exc))
    return _json_response(
        503, {"message": "history paging is unavailable right now; retry later", "request_id": _request_id()}
    )


@app.exception_handler(Exception)
def _on_unexpected(exc: Exception) -> Response:
    # The one place an unknown failure is logged, with its traceback.
    logger.exception("unexpected error")
    return _json_response(
        500,
        {"message": "internal error; the request id identifies it in the logs", "request_id": _request_id()},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: LambdaContext) -> dict:
    # Added per invocation, because Powertools resets the dimension set after each flush.
    metrics.add_dimension(
        name=contract.METRIC_ENVIRONMENT_DIMENSION, value=os.environ.get(contract.ENV_ENVIRONMENT, "unknown")
    )
    return app.resolve(event, context)
