"""The example models `fleet model build` knows: data, architecture and training (needs `fleet[tf]`).

Each recipe trains a Keras model on data from `fleet.models.synthetic` and returns it with
calibration samples and a held-out test set. Architectures use only operators every
built-in board profile supports (CONV_2D, AVERAGE_POOL_2D, FULLY_CONNECTED, RESHAPE,
SOFTMAX), so the built models deploy to any board.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from fleet.models._tf import tensorflow
from fleet.models.synthetic import GESTURE_AXES, GESTURE_LABELS, GESTURE_WINDOW, gesture_dataset, sine_dataset


@dataclass(frozen=True)
class Trained:
    """A trained float model and the data to quantize and judge it with.

    `test_y` holds class indices for classifiers (`labels` non-empty), target values for
    regressions.
    """

    model: Any  # keras.Model
    calibration: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


@dataclass(frozen=True)
class Recipe:
    name: str
    version: str
    description: str
    labels: tuple[str, ...]
    input_name: str
    train: Callable[[np.random.Generator], Trained]

    @property
    def classifier(self) -> bool:
        return bool(self.labels)


def _train_sine(rng: np.random.Generator) -> Trained:
    tensorflow()
    import keras

    x, y = sine_dataset(2000, rng)
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(x, y, epochs=60, batch_size=64, verbose=0)
    test_x = np.linspace(0.0, 2.0 * np.pi, 256, endpoint=False, dtype=np.float32)[:, np.newaxis]
    return Trained(model, x, test_x, np.sin(test_x))


def _train_gesture(rng: np.random.Generator) -> Trained:
    tensorflow()
    import keras

    x, y = gesture_dataset(2400, rng)
    test_x, test_y = gesture_dataset(800, rng)
    model = keras.Sequential(
        [
            keras.Input((GESTURE_WINDOW, GESTURE_AXES)),
            # Treat the window as a 32x1 image with 3 channels: a 1-D convolution over time
            # that lowers to CONV_2D, which every board supports (CONV_1D does not exist).
            keras.layers.Reshape((GESTURE_WINDOW, 1, GESTURE_AXES)),
            keras.layers.Conv2D(8, (5, 1), activation="relu"),
            keras.layers.AveragePooling2D((4, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(len(GESTURE_LABELS), activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=20, batch_size=64, verbose=0)
    return Trained(model, x, test_x, test_y)


RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            name="sine",
            version="1.0.0",
            description="hello-world regression: y = sin(x) for x in [0, 2π)",
            labels=(),
            input_name="x",
            train=_train_sine,
        ),
        Recipe(
            name="gesture",
            version="1.0.0",
            description=(
                f"gesture classifier on {GESTURE_WINDOW}-sample 3-axis accelerometer windows (g, 25 Hz): "
                + ", ".join(GESTURE_LABELS)
            ),
            labels=GESTURE_LABELS,
            input_name="imu",
            train=_train_gesture,
        ),
    )
}
