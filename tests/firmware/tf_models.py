"""Small full-int8 models built with TensorFlow for the firmware's TFLM tests: one per
kind of operator the MLPerf Tiny-class models use (convolution, depthwise convolution,
pooling, softmax, element-wise add) and per-tensor FULLY_CONNECTED models for the
reference runner. Weights are random (seeded), calibration is noise: the tests compare
arithmetic bit for bit, not accuracy. Tests using them are marked `tf`.

Each model converts once per test session (a few seconds each)."""

from __future__ import annotations

import functools

import numpy as np

from fleet.models.convert import keras_to_int8


def _keras():
    from fleet.models._tf import tensorflow

    tensorflow()
    import keras

    return keras


def _layers(name: str, keras):
    """(input shape, output tensor builder) for each model kind."""
    L = keras.layers
    if name == "conv":
        return (12, 12, 2), lambda x: L.Dense(5)(L.Flatten()(L.Conv2D(3, 3, strides=2, padding="same")(
            L.Conv2D(4, 3, activation="relu")(x))))  # fmt: skip
    if name == "depthwise":
        return (10, 10, 3), lambda x: L.Conv2D(4, 1)(L.DepthwiseConv2D(3, depth_multiplier=2, activation="relu6")(x))
    if name == "pooling":
        return (16, 16, 3), lambda x: L.Flatten()(L.MaxPooling2D(2)(L.AveragePooling2D(2)(x)))
    if name == "softmax":
        return (20,), lambda x: L.Softmax()(L.Dense(6)(x))
    if name == "add":
        return (8, 8, 2), lambda x: L.Add()([L.Conv2D(3, 3, padding="same")(x), L.Conv2D(3, 1)(x)])
    if name.startswith("fc_per_tensor"):
        return (64,), lambda x: L.Dense(64)(L.Dense(32, activation="relu")(x))  # an autoencoder's shape
    raise ValueError(name)


OP_MODELS = ("conv", "depthwise", "pooling", "softmax", "add")


@functools.cache
def tf_model(name: str, seed: int = 0) -> bytes:
    """The full-int8 model `name` (OP_MODELS, or "fc_per_tensor": Dense layers with one
    weight scale each) with weights drawn from `seed`."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    shape, body = _layers(name, keras)
    inputs = keras.Input(shape)
    model = keras.Model(inputs, body(inputs))
    rng = np.random.default_rng(seed)
    calibration = rng.uniform(-2.0, 2.0, (100, *shape)).astype(np.float32)
    return keras_to_int8(model, calibration, input_name=name, per_channel_dense=not name.startswith("fc_per_tensor"))
