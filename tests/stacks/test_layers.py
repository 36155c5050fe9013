"""Rules every layer keeps: it requires each upstream output it reads, and renders no Output as text."""

import pytest

from shared import naming, outputs
from shared.references import MissingUpstreamOutput
from tests.stacks.test_edge import walk_strings

UPSTREAM_READS = [
    (layer, upstream, name)
    for layer, by_upstream in outputs.REQUIRED_UPSTREAM.items()
    for upstream, names in by_upstream.items()
    for name in names
]


@pytest.mark.parametrize(("layer", "upstream", "output_name"), UPSTREAM_READS)
def test_missing_upstream_output_stops_the_layer_by_name(run_layer, upstream_outputs, error_chain, layer, upstream,
                                                        output_name):
    # require_output, never get_output: a missing export must stop the program, not become None.
    exports = upstream_outputs(layer)
    stack = naming.stack_reference_name(naming.DEFAULT_ORGANIZATION, upstream, "dev")
    del exports[stack][output_name]

    with pytest.raises(Exception) as caught:  # noqa: B017 - the engine wraps the error
        run_layer(layer, upstream=exports)

    missing = [e for e in error_chain(caught.value) if isinstance(e, MissingUpstreamOutput)]
    assert missing, f"{layer} ran without {upstream}'s {output_name}: {error_chain(caught.value)}"
    assert output_name in str(missing[0])
    assert f"invoke deploy --layer {upstream} --env dev" in str(missing[0])


@pytest.mark.parametrize("layer", naming.LAYERS)
def test_no_output_rendered_as_text(run_layer, layer):
    run = run_layer(layer)

    for resource in run.resources:
        for text in walk_strings(resource.inputs):
            assert "Calling __str__ on an Output" not in text, resource.name
            assert "<pulumi.output.Output" not in text, resource.name
