"""Tree nodes built by the artifact manager without validation behave as validated ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ulid import ULID

from chapkit import ArtifactTreeNode
from chapkit.application.artifact_manager import trusted_tree_node


def test_a_trusted_node_equals_one_from_model_construct_and_from_validation() -> None:
    now = datetime.now(UTC)
    values = {
        "id": ULID(),
        "created_at": now,
        "updated_at": now,
        "data": {"x": [1, 2]},
        "parent_id": ULID(),
        "level": 2,
        "level_label": "predict",
        "hierarchy": "ml",
        "children": None,
        "config": None,
    }
    trusted = trusted_tree_node(dict(values))
    constructed = ArtifactTreeNode.model_construct(**values)
    validated = ArtifactTreeNode.model_validate(values)
    assert trusted == constructed == validated
    assert trusted.model_fields_set == constructed.model_fields_set
    assert json.loads(trusted.model_dump_json()) == json.loads(validated.model_dump_json())
    trusted.children = []
    assert trusted.children == [] and "children" in trusted.model_fields_set
