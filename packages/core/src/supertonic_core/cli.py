"""``supertonic``: synthesize to a file, list voices, download a model, make a synthetic bundle."""

from __future__ import annotations

import argparse
import logging
import sys
import wave
from pathlib import Path
from typing import get_args

from tqdm import tqdm

from .audio import SAMPLE_RATES
from .audio_path import AudioPath, Pcm16Encoder
from .bundle import MODELS, SYNTHETIC_PROFILES, cache_dir, download_bundle, synthetic_dir
from .engine import Engine
from .errors import SupertonicError
from .options import OPTION_NAMES, SynthesisOptions
from .runtime import CONV_SEARCH, DEVICES, RuntimeOptions
from .voices import OPENAI_VOICES, VoiceLibrary, default_voices_dir


def _voices_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--voices-dir",
        type=Path,
        help="folder of custom voice-style JSON files (default: the server's, "
        f"{default_voices_dir()}, when it exists)",
    )


def _custom_voices(args: argparse.Namespace) -> Path | None:
    """The folder named, else the default one if it exists (the CLI makes no folders)."""
    default = default_voices_dir()
    return args.voices_dir or (default if default.is_dir() else None)


def _option_args(parser: argparse.ArgumentParser) -> None:
    """A flag per field of the request model (``--first-chunk-steps``...), its help and
    default from the model; values are checked by the engine, in the model's words."""
    for name, info in SynthesisOptions.model_fields.items():
        flag = "--" + name.replace("_", "-")
        help = f"{info.description} (default {info.default})"
        kind = str(info.annotation)
        if "bool" in kind:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=help)
        elif "Literal" in kind:
            parser.add_argument(flag, choices=get_args(info.annotation), help=help)
        else:
            cast = float if "float" in kind else int if "int" in kind else str
            parser.add_argument(flag, type=cast, help=help)


def _model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="supertonic-3", choices=list(MODELS))
    parser.add_argument("--model-dir", type=Path, help="use this bundle directory as is")
    parser.add_argument(
        "--synthetic",
        choices=SYNTHETIC_PROFILES,
        help="use a generated bundle with random weights (noise, not speech) for offline trials",
    )
    _voices_dir(parser)
    parser.add_argument("--device", default="auto", choices=DEVICES)
    parser.add_argument("--threads", type=int, help="ONNX intra-op threads (default: all cores)")
    parser.add_argument("--device-id", type=int, default=0, help="which GPU (cuda, tensorrt)")
    parser.add_argument(
        "--conv-search",
        choices=CONV_SEARCH,
        default="heuristic",
        help="cuDNN's convolution algorithm search",
    )
    parser.add_argument("--gpu-mem-limit-mb", type=int, help="cap on the CUDA arena, in MB")
    parser.add_argument("--tensorrt-cache", help="folder of TensorRT's compiled engines")
    parser.add_argument(
        "--workers",
        type=_workers,
        default="auto",
        help="runtimes run at once: auto (one per GPU; on a CPU, the split of the cores "
        "measured fastest) or a number",
    )
    parser.add_argument(
        "--io-binding",
        action=argparse.BooleanOptionalAction,
        help="keep the denoising state on the device between steps (default: on for GPUs)",
    )
    parser.add_argument(
        "--buckets",
        action=argparse.BooleanOptionalAction,
        help="round shapes up to fixed buckets, visited at warm-up (default: on for GPUs)",
    )
    parser.add_argument(
        "--cuda-graph", action="store_true", help="replay CUDA graphs per bucket (cuda only)"
    )


def _workers(text: str) -> int | str:
    """``auto`` or a positive number (an argparse type: a bad value is a usage error)."""
    if text == "auto":
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: auto or a positive integer")
    return int(text)


def _engine(args: argparse.Namespace) -> Engine:
    model_dir = args.model_dir
    if args.synthetic:
        from .synthetic import make_synthetic_bundle  # needs onnx: the `synthetic` extra

        model_dir = make_synthetic_bundle(synthetic_dir(args.synthetic), profile=args.synthetic)
    return Engine.load(
        args.model,
        model_dir=model_dir,
        runtime=RuntimeOptions(
            device=args.device,
            intra_threads=args.threads,
            device_id=args.device_id,
            conv_search=args.conv_search,
            gpu_mem_limit_mb=args.gpu_mem_limit_mb,
            tensorrt_cache=args.tensorrt_cache,
            workers=args.workers,
            io_binding=args.io_binding,
            buckets=args.buckets,
            cuda_graph=args.cuda_graph,
        ),
        voices_dir=_custom_voices(args),
    )


def _synth(args: argparse.Namespace) -> int:
    text = args.text if args.text is not None else sys.stdin.read()
    with _engine(args) as engine:
        opts = engine.options(**{name: getattr(args, name) for name in OPTION_NAMES})
        engine.check_text(text, opts.lang, normalize=opts.normalize)
        rate = args.sample_rate or engine.sample_rate
        path = AudioPath(engine.sample_rate, Pcm16Encoder(rate))
        stream = engine.open_stream(opts)
        stream.add_text(text)
        stream.end()
        parts: list[bytes] = []
        with (
            stream,
            tqdm(
                total=stream.queued_chunks, unit="chunk", disable=args.quiet, file=sys.stderr
            ) as bar,
        ):
            for chunk in stream:
                parts.append(path.push_now(chunk.samples))
                bar.update(1)
        parts.append(path.finish_now())
        pcm = b"".join(parts)
    out = Path(args.output)
    if args.format == "pcm" or out.suffix == ".pcm":
        out.write_bytes(pcm)
    else:
        with wave.open(str(out), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(pcm)
    seconds = len(pcm) / 2 / rate
    note = " (SYNTHETIC bundle: noise, not speech)" if engine.synthetic else ""
    print(f"wrote {out}: {seconds:.2f} s at {rate} Hz{note}", file=sys.stderr)
    return 0


def _voices(args: argparse.Namespace) -> int:
    """Names only: no model is loaded (nor downloaded), as listing needs none of its files.
    Custom voice files are still read, so a bad one is reported here as at start-up."""
    library = VoiceLibrary(cache_dir() / "voice_styles", _custom_voices(args))
    for name in library.names():
        target = OPENAI_VOICES.get(name)
        print(f"{name}\t{'-> ' + target if target else ''}".rstrip())
    return 0


def _download(args: argparse.Namespace) -> int:
    bundle = download_bundle(args.model, dest=args.dest, revision=args.revision)
    print(f"{args.model} ready at {bundle.path}")
    return 0


def _make_synthetic(args: argparse.Namespace) -> int:
    from .synthetic import make_synthetic_bundle  # needs onnx: the `synthetic` extra

    path = make_synthetic_bundle(
        args.dest, profile=args.profile, seed=args.seed, overwrite=args.overwrite
    )
    print(f"synthetic {args.profile} bundle (random weights, not speech) at {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supertonic", description=__doc__)
    parser.add_argument("--log-level", default="warning")
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="text (argument or stdin) to a wav or raw pcm file")
    synth.add_argument("text", nargs="?", help="text to speak; read from stdin when omitted")
    synth.add_argument("-o", "--output", required=True, help="output file (.wav or .pcm)")
    synth.add_argument("--format", choices=["wav", "pcm"], default="wav")
    _option_args(synth)
    synth.add_argument("--sample-rate", type=int, choices=SAMPLE_RATES, help="output rate")
    synth.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _model_args(synth)
    synth.set_defaults(func=_synth)

    voices = sub.add_parser("voices", help="list voice names (no model needed)")
    _voices_dir(voices)
    voices.set_defaults(func=_voices)

    download = sub.add_parser("download", help="fetch a model bundle from Hugging Face")
    download.add_argument("--model", default="supertonic-3", choices=list(MODELS))
    download.add_argument("--revision", help="override the pinned revision")
    download.add_argument("--dest", type=Path, help="target folder (default: the cache)")
    download.set_defaults(func=_download)

    synthetic = sub.add_parser("make-synthetic", help="write a random-weight bundle")
    synthetic.add_argument("dest", type=Path)
    synthetic.add_argument("--profile", choices=SYNTHETIC_PROFILES, default="tiny")
    synthetic.add_argument("--seed", type=int, default=0)
    synthetic.add_argument("--overwrite", action="store_true")
    synthetic.set_defaults(func=_make_synthetic)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    try:
        return int(args.func(args))
    except SupertonicError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
