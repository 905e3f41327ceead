"""Load one packaged knowledge file, validated, once per process."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from monitor.knowledge import DATA
from monitor.yamlfile import load_yaml

M = TypeVar("M", bound=BaseModel)


def load(name: str, model: type[M], folder: Path = DATA) -> M:
    """`data/<name>` as `model`; a mistake in the file is a one-line error with its line."""
    doc = load_yaml(folder / name)
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise doc.validation_error(exc) from None
