"""Stack references between layers, built from the organization setting and the layer name."""

import pulumi

from shared import naming


class MissingUpstreamOutput(KeyError):
    """An upstream stack lacks an output this layer reads; the message names both and the fix."""

    def __str__(self) -> str:
        return str(self.args[0])


def upstream_stack(settings: dict, layer: str) -> pulumi.StackReference:
    """Return a reference to another layer's stack of the same environment."""
    name = naming.stack_reference_name(settings["organization"], layer, settings["environment"])
    return pulumi.StackReference(f"{layer}-stack", stack_name=name)


def missing_output_message(stack_name: str, output_name: str) -> str:
    organization, project, environment = (stack_name.split("/") + ["", "", ""])[:3]
    layer = project.removeprefix(f"{naming.PROJECT}-")
    return (
        f"stack {stack_name} has no output {output_name!r}. Deploy that layer first: "
        f"invoke deploy --layer {layer} --env {environment}"
    )


def require(reference: pulumi.StackReference, output_name: str) -> pulumi.Output:
    """Read an upstream output; a missing one fails the preview naming the stack and output.

    Like ``StackReference.require_output`` (never ``get_output``, which silently yields
    ``None``), but the error also names the stack and the command that fixes it. The
    value is marked secret whenever the upstream stack exports any secret.
    """

    def pick(values):
        stack_name, outputs = values
        if output_name not in (outputs or {}):
            raise MissingUpstreamOutput(missing_output_message(stack_name, output_name))
        return outputs[output_name]

    return pulumi.Output.all(reference.name, reference.outputs).apply(pick)
