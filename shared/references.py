"""Stack references between layers, built from the organization setting and the layer name."""

import pulumi

from shared import naming


def upstream_stack(settings: dict, layer: str) -> pulumi.StackReference:
    """Return a reference to another layer's stack of the same environment."""
    name = naming.stack_reference_name(settings["organization"], layer, settings["environment"])
    return pulumi.StackReference(f"{layer}-stack", stack_name=name)


def require(reference: pulumi.StackReference, output_name: str) -> pulumi.Output:
    """Read an upstream output; a missing one fails the preview naming the stack and output.

    ``require_output`` is used on purpose, since ``get_output`` silently yields ``None``.
    """
    return reference.require_output(output_name)
