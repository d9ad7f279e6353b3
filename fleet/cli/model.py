"""`fleet model`: inspect, build, convert and compare TinyML models.

- `inspect FILE [--json] [--profile NAME]`: what the model is made of, the exact tensor
  arena it needs in TFLM, and whether it fits each board (with --profile: exit 1 if not).
- `build NAME [--out DIR] [--seed N]`: train and convert an example model (needs fleet[tf]).
- `convert SRC [--out FILE] ...`: Keras model or SavedModel to full-int8 .tflite + manifest.
- `parity FILE... [--inputs N] [--seed N]`: TFLM against the TFLite reference kernels.

Toolkit imports happen inside the handlers, so `fleet --help` does not pay for numpy or
TensorFlow.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fleet.cli.output import print_json, print_table
from fleet.errors import ConfigError, ModelError, ModelToolMissing

EXIT_OK = 0
EXIT_FAILED = 1


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("model", help="inspect, build, convert and compare TinyML models", description=__doc__)
    commands = parser.add_subparsers(dest="model_command", metavar="SUBCOMMAND", required=True)

    p = commands.add_parser("inspect", help="operators, tensors, MACs, measured arena, fit per board")
    p.add_argument("file", type=Path, metavar="FILE", help=".tflite model")
    p.add_argument("--profile", metavar="NAME", help="check only this board profile; exit 1 if the model does not fit")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run_inspect)

    p = commands.add_parser("build", help="train an example model and convert it to full-int8 (needs fleet[tf])")
    p.add_argument("name", metavar="NAME", help="example to build: sine or gesture")
    p.add_argument("--out", type=Path, default=Path("."), metavar="DIR", help="output directory (default: .)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed for data, weights and shuffling (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run_build)

    p = commands.add_parser("convert", help="Keras model or SavedModel to full-int8 .tflite + manifest")
    p.add_argument("source", type=Path, metavar="SRC", help=".keras/.h5 file or SavedModel directory")
    p.add_argument("--out", type=Path, metavar="FILE", help="output .tflite (default: SRC with .tflite suffix)")
    p.add_argument("--name", help="model name in the manifest (default: output file stem)")
    p.add_argument("--version", default="1.0.0", help="model version in the manifest (default 1.0.0)")
    p.add_argument("--labels", metavar="A,B,...", help="comma-separated output labels, one per output value")
    p.add_argument("--description", help="free text for the manifest")
    p.add_argument(
        "--calibration",
        type=Path,
        metavar="NPY",
        help="numpy .npy of input samples (N, *input shape) for quantization; default: standard-normal noise",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed for the default calibration noise")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run_convert)

    p = commands.add_parser("parity", help="TFLM outputs against TFLite reference kernels (needs fleet[tf])")
    p.add_argument("files", type=Path, nargs="+", metavar="FILE", help=".tflite models")
    p.add_argument("--inputs", type=int, default=256, metavar="N", help="inputs per model (default 256)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the input stream (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run_parity)


def run_inspect(args: argparse.Namespace) -> int:
    from fleet.models.arena import measure_arena
    from fleet.models.fit import check_fit
    from fleet.models.inspect import inspect_model
    from fleet.models.manifest import load_manifest_for
    from fleet.models.report import InspectReport
    from fleet.profiles import get_profile, load_profiles

    profiles = [get_profile(args.profile)] if args.profile else list(load_profiles().values())
    data = _read_model(args.file)
    info = inspect_model(data, name=str(args.file))
    manifest = load_manifest_for(args.file, data)
    arena: int | None = None
    arena_error: str | None = None
    try:
        arena = measure_arena(data, name=str(args.file))
    except ModelError as exc:
        # Inspection stays useful without an arena figure (say, no tflite-micro installed,
        # or an operator TFLM lacks); the report says why it is missing.
        arena_error = exc.message
    fits = [check_fit(info, arena, profile) for profile in profiles] if arena is not None else []
    report = InspectReport.of(str(args.file), info, arena, arena_error, manifest, fits)
    if args.json:
        print_json(report)
    else:
        _print_inspect(report)
    if args.profile and not fits:  # unsure is not a yes
        print(f"fleet: cannot tell whether {args.file} fits {args.profile}: the tensor arena was not measured",
              file=sys.stderr)  # fmt: skip
    if args.profile and not (fits and fits[0].ok):
        return EXIT_FAILED
    return EXIT_OK


def _read_model(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model: {exc.strerror or exc}") from None


def _print_inspect(report) -> None:  # report: InspectReport
    print(f"{report.file}: {report.size} B, sha256 {report.sha256}")
    print("operators: " + ", ".join(f"{name} x{count}" for name, count in report.ops.items()))
    for kind, tensors in (("input", report.inputs), ("output", report.outputs)):
        for t in tensors:
            print(f"{kind}: {t.name} {t.dtype}{t.shape} scale {t.scale:.6g} zero point {t.zero_point}")
    print(f"MACs per inference: {report.macs:,}")
    if report.arena_bytes is not None:
        print(f"tensor arena (measured in the TFLM host interpreter): {report.arena_bytes} B")
    else:
        print(f"tensor arena: not measured: {report.arena_error}")
    if report.manifest is not None:
        m = report.manifest
        labels = ", ".join(m.labels) if m.labels else "(none)"
        print(f"manifest: {m.name} {m.version}, labels: {labels}")
    if report.fits:
        print()
        print_table(
            ["BOARD", "SLOT (B)", "ARENA (B)", "OPS", "FITS"],
            [
                [
                    f.board,
                    f"{f.slot.needed}/{f.slot.limit}",
                    f"{f.arena.needed}/{f.arena.limit}",
                    "ok" if f.ops.ok else f"{len(f.unsupported_ops)} missing",
                    "yes" if f.ok else "NO",
                ]
                for f in report.fits
            ],
        )
        for f in report.fits:
            if not f.ok:
                print(f"{f.board}: {f.message}")


def run_build(args: argparse.Namespace) -> int:
    from fleet.models.build import build_model
    from fleet.models.report import BuildReport

    result = build_model(args.name, args.out, seed=args.seed)
    report = BuildReport(
        model=str(result.path),
        manifest_file=str(result.manifest_path),
        manifest=result.manifest,
        seconds=round(result.seconds, 2),
    )
    if args.json:
        print_json(report)
    else:
        _print_built(report)
    return EXIT_OK


def run_convert(args: argparse.Namespace) -> int:
    import time

    from fleet.models.convert import convert_path
    from fleet.models.inspect import inspect_model
    from fleet.models.manifest import Manifest, write_manifest
    from fleet.models.report import BuildReport

    started = time.perf_counter()
    out: Path = args.out or args.source.with_suffix(".tflite")
    calibration = _load_calibration(args.calibration) if args.calibration else None
    if calibration is None and not args.json:
        print("fleet: warning: no --calibration; quantizing with standard-normal noise as inputs", file=sys.stderr)
    data = convert_path(args.source, calibration, seed=args.seed)
    labels = [label.strip() for label in args.labels.split(",")] if args.labels else []
    manifest = Manifest.describe(
        inspect_model(data, name=str(out)),
        name=args.name or out.stem,
        version=args.version,
        labels=labels,
        description=args.description,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    report = BuildReport(
        model=str(out),
        manifest_file=str(write_manifest(manifest, out)),
        manifest=manifest,
        seconds=round(time.perf_counter() - started, 2),
    )
    if args.json:
        print_json(report)
    else:
        _print_built(report)
    return EXIT_OK


def _load_calibration(path: Path):  # -> np.ndarray
    import numpy as np

    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read calibration samples (expected a numpy .npy file): {exc}") from None


def _print_built(report) -> None:  # report: BuildReport
    m = report.manifest
    print(f"wrote {report.model} ({m.name} {m.version}, sha256 {m.sha256}) and {report.manifest_file}")
    print(f"input {m.input.dtype}{list(m.input.shape)}, output {m.output.dtype}{list(m.output.shape)}", end="")
    print(f", labels: {', '.join(m.labels)}" if m.labels else "")
    if m.metrics:
        print("metrics: " + ", ".join(f"{key} {value:g}" for key, value in m.metrics.items()))
    print(f"took {report.seconds:.1f} s")


def run_parity(args: argparse.Namespace) -> int:
    from fleet.models.manifest import load_manifest_for
    from fleet.models.parity import compare_with_reference
    from fleet.models.report import ParityEntry, ParityReport

    if args.inputs < 1:
        raise ConfigError("--inputs must be at least 1")
    entries = []
    for path in args.files:
        try:
            data = _read_model(path)
            result = compare_with_reference(
                data, inputs=args.inputs, seed=args.seed, manifest=load_manifest_for(path, data)
            )
        except ModelToolMissing:
            raise  # the same for every model: say it once
        except ModelError as exc:
            entries.append(ParityEntry(file=str(path), error=exc.message))
            continue
        entries.append(ParityEntry.of(str(path), result))
    report = ParityReport(inputs=args.inputs, seed=args.seed, models=entries)
    if args.json:
        print_json(report)
    else:
        print(f"TFLM vs {report.reference}, {report.inputs} inputs per model, seed {report.seed}")
        print_table(
            ["MODEL", "MAX |DIFF|", "INPUTS DIFFERING", "NOTE"],
            [
                [
                    Path(e.file).name,
                    None if e.max_abs_diff is None else f"{e.max_abs_diff:g} {e.unit}",
                    e.differing_inputs,
                    e.error,
                ]
                for e in entries
            ],
        )
    return EXIT_FAILED if any(e.error for e in entries) else EXIT_OK
