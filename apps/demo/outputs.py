"""What a model call of the demo returns (:data:`OUTPUTS`, in order) and gradio's update
dicts built without gradio (:func:`update`), so that :mod:`apps.demo.handlers` runs in the model
worker process as well as in the page's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

OUTPUTS = (  # what a model call returns, in order (the session's state key comes last)
    "overlay",
    "status",
    "neighbour",
    "neighbour_caption",
    "attention",
    "attention_caption",
    "a2",
    "a2_caption",
    "gates",
    "candidates",
    "candidate",
    "latency",
    "mask",
    "summary",
    "probability",
    "probability_caption",
    "influence",
    "influence_caption",
    "gates_caption",
    "words",
)
GATES_HINT = "*Tick the box to draw the gates of the last answer.*"
REPLACED = "The answer on show changed while this ran: press the button again for it."
SKIP = {"__type__": "update"}  # gr.skip(): leave that output as it is


def update(**props) -> dict[str, Any]:
    """gr.update(**props) without gradio: a component's new properties."""
    return {"__type__": "update", **props}


def input_of(image: Any, expression: Any) -> tuple[str | None, str]:
    """What identifies the input on the page between events: the upload's source and the
    expression as typed (a result, a comparison answered it; a change makes them stale)."""
    return source_of(image), "" if expression is None else str(expression)


def source_of(payload: Any) -> str | None:
    """What identifies an upload between events: Gradio's file path for it (the same file
    uploaded again keeps its path), else its URL."""
    if isinstance(payload, dict):
        return payload.get("path") or payload.get("url")
    if isinstance(payload, (str, Path)):
        return str(payload)
    return None
