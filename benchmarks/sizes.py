"""Sample counts of each benchmark at the two sizes: ``full`` for figures, ``tiny`` for the test suite."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    # Cold start: fresh processes per variant, for wall time and for -X importtime.
    cold_runs: int
    # Warm path: interleaved rounds of calls per variant, after warm-up calls.
    warm_rounds: int
    warm_calls: int
    warm_warmup: int
    # Read cost: events stored per shipment, and timed requests per shipment.
    read_sizes: tuple
    read_requests: int
    read_warmup: int
    # Offline preview: fresh processes per layer and for the whole chain.
    preview_runs: int
    # Local API: updates sent and client threads.
    throughput_updates: int
    throughput_threads: int


FULL = Size(
    name="full",
    cold_runs=15,
    warm_rounds=40,
    warm_calls=50,
    warm_warmup=100,
    read_sizes=(10, 1_000, 10_000),
    read_requests=10,
    read_warmup=1,
    preview_runs=5,
    throughput_updates=1_800,
    throughput_threads=8,
)

TINY = Size(
    name="tiny",
    cold_runs=1,
    warm_rounds=2,
    warm_calls=10,
    warm_warmup=3,
    read_sizes=(10, 100),
    read_requests=2,
    read_warmup=1,
    preview_runs=1,
    throughput_updates=24,
    throughput_threads=4,
)

SIZES = {size.name: size for size in (FULL, TINY)}


def size_named(name: str) -> Size:
    if name not in SIZES:
        raise ValueError(f"invalid benchmark size {name!r}: allowed are {', '.join(SIZES)}")
    return SIZES[name]
