"""Tags every taggable resource carries, so cost and ownership reports can group by them."""

from shared import naming

TAG_KEYS = ("Project", "Environment", "Layer", "Owner", "CostCenter", "ManagedBy")


def standard_tags(settings: dict, layer: str) -> dict:
    """Return the tags of one layer's resources from its validated settings."""
    return {
        "Project": naming.PROJECT,
        "Environment": settings["environment"],
        "Layer": layer,
        "Owner": settings["owner"],
        "CostCenter": settings["costCenter"],
        "ManagedBy": "pulumi",
    }
