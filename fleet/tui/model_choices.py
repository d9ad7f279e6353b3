"""Model files the deploy screen offers: the bundled examples, then any extra directories.

The demo adds `../shared/models` when it exists beside the checkout (the TFLM examples:
micro_speech is the one whose latency budget the Pico misses); `--models DIR` adds more.
Any other file can be typed as a path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fleet.models.bundled import EXAMPLES_DIR


@dataclass(frozen=True, slots=True)
class ModelChoice:
    path: Path
    origin: str  # "bundled", or the directory it was found in

    @property
    def label(self) -> str:
        return f"{self.path.stem}  ({self.origin})"


def shared_models_dir(start: Path | None = None) -> Path | None:
    """`../shared/models` relative to the working directory, if it is there."""
    candidate = (start or Path.cwd()).resolve().parent / "shared" / "models"
    return candidate if candidate.is_dir() else None


def model_choices(extra_dirs: Iterable[Path] = ()) -> list[ModelChoice]:
    """Bundled models first, then each extra directory's `.tflite` files, by name."""
    choices = [ModelChoice(p, "bundled") for p in sorted(EXAMPLES_DIR.glob("*.tflite"))]
    seen = {c.path.resolve() for c in choices}
    for directory in extra_dirs:
        for path in sorted(Path(directory).glob("*.tflite")):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                choices.append(ModelChoice(path, str(directory)))
    return choices
