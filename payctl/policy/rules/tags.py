"""Tags: Environment, Application and CostCenter with the environment's values everywhere."""

from __future__ import annotations

from collections.abc import Iterable

from payctl.policy.effective import EffectiveTemplate, text
from payctl.policy.model import Context, Rule, Violation, as_list, props, tag_values
from payctl.templates.schemas import tag_shape


def expected_tags(context: Context) -> dict[str, str]:
    env = context.environment
    return {"Environment": env.name, "Application": env.application, "CostCenter": env.cost_center}


class StandardTags(Rule):
    id = "PAY002"
    title = "Standard tags with the environment's values"
    description = (
        "Every taggable resource (its schema has standard Tags) carries Environment, "
        "Application and CostCenter with the environment file's values; so does every "
        "DynamoDB global table replica."
    )
    hint = (
        "payctl injects the tags from stacks/_shared/tags.yaml; do not set these keys to other "
        "values, and set them on global table replicas yourself."
    )

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        wanted = expected_tags(context)
        for logical_id, resource in template.resources.items():
            kind = str(resource.get("Type", ""))
            if tag_shape(kind) is not None:
                yield from _compare(logical_id, ("Properties", "Tags"), props(resource).get("Tags"), wanted)
            if kind == "AWS::DynamoDB::GlobalTable":
                for index, replica in enumerate(as_list(props(resource).get("Replicas"))):
                    if isinstance(replica, dict):
                        yield from _compare(
                            logical_id,
                            ("Properties", "Replicas", index, "Tags"),
                            replica.get("Tags"),
                            wanted,
                            f"replica {text(replica.get('Region'))}: ",
                        )


def _compare(
    logical_id: str, path: tuple[str | int, ...], tags: object, wanted: dict[str, str], prefix: str = ""
) -> Iterable[Violation]:
    found = tag_values(tags)
    missing = [key for key in wanted if key not in found]
    if missing:
        yield Violation(logical_id, path, f"{prefix}missing tags {', '.join(missing)}")
    for key, value in wanted.items():
        if key in found and text(found[key]) != value:
            yield Violation(
                logical_id, path, f"{prefix}tag {key} is {text(found[key])!r}, expected {value!r}"
            )
