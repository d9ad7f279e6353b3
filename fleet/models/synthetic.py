"""Synthetic sensor data, generated with numpy alone: training sets and live input streams.

`fleet model build` trains on this data, and virtual boards feed the same generators to
the built models, so the live labels they report are the ones the model was built to
recognise. Every function takes a `numpy.random.Generator`, so results depend only on
the seed.

Gestures are 3-axis accelerometer windows in g: `GESTURE_WINDOW` samples at
`GESTURE_RATE_HZ`, gravity along z with a small random tilt, sensor noise, and:

- idle: nothing else;
- wave: a side-to-side oscillation on x, 1.5-3 Hz;
- tap: one or two sharp decaying spikes on z;
- circle: x and y a quarter period apart, 0.7-1.4 Hz.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

GESTURE_LABELS: tuple[str, ...] = ("idle", "wave", "tap", "circle")
GESTURE_WINDOW = 32
GESTURE_RATE_HZ = 25.0
GESTURE_AXES = 3
SINE_STEPS = 64  # points per period in the live sine sweep


def sine_dataset(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [0, 2π) and y = sin(x) plus noise, both float32 of shape (count, 1)."""
    x = rng.uniform(0.0, 2.0 * np.pi, size=(count, 1)).astype(np.float32)
    y = (np.sin(x) + rng.normal(0.0, 0.05, size=x.shape)).astype(np.float32)
    return x, y


def sine_sweep(rng: np.random.Generator) -> Iterator[np.ndarray]:
    """x over [0, 2π) in `SINE_STEPS` steps, again and again: the hello_world input stream."""
    del rng  # the sweep is the same every time; the signature matches the other streams
    while True:
        for step in range(SINE_STEPS):
            yield np.array([2.0 * np.pi * step / SINE_STEPS], dtype=np.float32)


def gesture_window(label: int, rng: np.random.Generator) -> np.ndarray:
    """One window of class `label` (an index into GESTURE_LABELS), float32 (WINDOW, AXES)."""
    t = np.arange(GESTURE_WINDOW, dtype=np.float64) / GESTURE_RATE_HZ
    tilt = rng.normal(0.0, 0.15, size=2)
    window = np.empty((GESTURE_WINDOW, GESTURE_AXES))
    window[:, 0] = tilt[0]
    window[:, 1] = tilt[1]
    window[:, 2] = 1.0
    name = GESTURE_LABELS[label]
    if name == "wave":
        freq, amp, phase = rng.uniform(1.5, 3.0), rng.uniform(0.2, 0.8), rng.uniform(0, 2 * np.pi)
        window[:, 0] += amp * np.sin(2 * np.pi * freq * t + phase)
    elif name == "tap":
        for _ in range(rng.integers(1, 3)):
            at = rng.integers(0, GESTURE_WINDOW - 4)
            spike = rng.uniform(0.6, 2.0) * np.exp(-np.arange(GESTURE_WINDOW - at) / 1.2)
            window[at:, 2] += spike * np.where(np.arange(GESTURE_WINDOW - at) % 2, -0.6, 1.0)
    elif name == "circle":
        freq, amp, phase = rng.uniform(0.7, 1.4), rng.uniform(0.2, 0.6), rng.uniform(0, 2 * np.pi)
        window[:, 0] += amp * np.cos(2 * np.pi * freq * t + phase)
        window[:, 1] += amp * np.sin(2 * np.pi * freq * t + phase)
    window += rng.normal(0.0, 0.15, size=window.shape)
    return window.astype(np.float32)


def gesture_dataset(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` windows with balanced classes in random order: (count, WINDOW, AXES) float32, labels int64."""
    labels = rng.permutation(np.arange(count) % len(GESTURE_LABELS))
    windows = np.stack([gesture_window(int(label), rng) for label in labels])
    return windows, labels.astype(np.int64)


def gesture_cycle(rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Windows of each gesture in turn (idle, wave, tap, circle, idle, ...), for live streams."""
    label = 0
    while True:
        yield gesture_window(label, rng)
        label = (label + 1) % len(GESTURE_LABELS)


# Live input streams by manifest `generator` name: float samples in the model's input units.
STREAMS: dict[str, Callable[[np.random.Generator], Iterator[np.ndarray]]] = {
    "sine": sine_sweep,
    "gesture": gesture_cycle,
}
