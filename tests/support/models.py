"""The bundled example models as session fixtures, loaded as a deploy loads them.

`sine` and `gesture` are `ModelFile`s (fleet.deploy.model_file): `.data` for the bytes,
`.path` for the file, `.info` for its inspection, `.arena_bytes` for the measured arena.
Registered for every test by tests/conftest.py (`pytest_plugins`)."""

from __future__ import annotations

import pytest

from tests.support.sim import REASON


def _load(name: str):  # noqa: ANN202 - a ModelFile, imported only once the extra is known to be there
    pytest.importorskip("tflite_micro", reason=REASON)  # the arena is measured with TFLite Micro
    from fleet.deploy.model_file import load_model_file
    from fleet.models.bundled import bundled_model

    return load_model_file(bundled_model(name))


@pytest.fixture(scope="session")
def sine():  # noqa: ANN201 - ModelFile
    """The bundled sine regression: int8 [1,1] -> int8 [1,1], FULLY_CONNECTED x3, 288 MACs, 3568 B, arena 2192 B.
    What boards run before a deploy."""
    return _load("sine")


@pytest.fixture(scope="session")
def gesture():  # noqa: ANN201 - ModelFile
    """The bundled gesture classifier: int8 [1,32,3] -> int8 [1,4] (softmax), 4544 MACs, 5552 B, arena 3152 B.
    The model being deployed."""
    return _load("gesture")
