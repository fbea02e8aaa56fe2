"""`edi837 generate`: synthetic 837 files, or a patient-history corpus of nights."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from .support import EXIT_TROUBLE, complain, output_stream

MIN_NIGHTS = 30  # edi837.generator.nights.MIN_NIGHTS, not imported: the CLI starts lean


@click.command()
@click.option("--kind", type=click.Choice(["837P", "837I"]), default="837P", show_default=True)
@click.option("--claims", type=click.IntRange(min=1), help="Exact number of claims.")
@click.option("--size", help="Approximate file size instead, e.g. 10MB, 500MB.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Same seed, same bytes.")
@click.option("--defect-rate", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Share of drug claims with one billing defect (visits carry none).")
@click.option("--drug-share", type=click.FloatRange(0, 1, min_open=True),
              help="Share of episodes with a drug claim (a nightly mix: 0.02); default the "
                   "dense mix of about 80%.")
@click.option("--nights", type=click.IntRange(min=MIN_NIGHTS),
              help="Instead: a patient-history corpus, one file per night for this many "
                   "nights, with planted duplicates, schedule slips, replacements and voids "
                   f"(manifest.json says which); needs --out-dir.  At least {MIN_NIGHTS}: "
                   "members start over the first two months, so fewer nights hold few "
                   "doses or none; a year plants every kind of event.")
@click.option("--out-dir", type=click.Path(file_okay=False),
              help="Folder for --nights files.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="File to write (atomically).")
@click.option("--force", is_flag=True,
              help="Replace OUTPUT if it exists; with --nights, the corpus in --out-dir.")
def generate(kind: str, claims: int | None, size: str | None, seed: int, defect_rate: float,
             drug_share: float | None, nights: int | None, out_dir: str | None,
             output: str | None, force: bool) -> None:
    """Write a synthetic 837P/837I file (all data made up) for tests and benchmarks."""
    from ..generator import generate as write_claims

    if nights is not None:
        defect_rate_given = click.get_current_context().get_parameter_source("defect_rate") \
            not in (ParameterSource.DEFAULT, None)
        _generate_nights(kind, nights, seed, out_dir, {
            "-o": output, "--claims": claims, "--size": size, "--drug-share": drug_share,
            "--defect-rate": defect_rate if defect_rate_given else None}, force)
        return
    if out_dir is not None:
        complain("--out-dir is for --nights N; for one file give -o FILE")
        sys.exit(EXIT_TROUBLE)
    if output is None:
        complain("give -o FILE (or --nights with --out-dir)")
        sys.exit(EXIT_TROUBLE)
    if (claims is None) == (size is None):
        complain("give exactly one of --claims or --size")
        sys.exit(EXIT_TROUBLE)
    if output != "-" and Path(output).exists() and not force:
        complain(f"{output} exists; use --force to replace it")
        sys.exit(EXIT_TROUBLE)
    from ..progress import Progress, wanted

    target = _parse_size(size) if size else None
    with output_stream(output) as out, \
            Progress(target or 0, "edi837 generate", enabled=wanted(False)) as progress:
        stats = write_claims(_Counted(out, progress), kind, claims=claims, size=target,
                             seed=seed, defect_rate=defect_rate, drug_share=drug_share)
    click.echo(f"{output}: {stats['claims']} claims, {stats['drug_lines']} drug lines, "
               f"{stats['bytes']} bytes", err=True)


class _Counted:
    """A text output whose writes advance a progress line (generate: bytes written;
    the generator writes ASCII, a character a byte)."""

    def __init__(self, out, progress) -> None:
        self._out, self._progress = out, progress

    def write(self, text: str) -> int:
        self._progress.advance(len(text))
        return self._out.write(text)

    def __getattr__(self, name):
        return getattr(self._out, name)


def _generate_nights(kind: str, nights: int, seed: int, out_dir: str | None,
                     single_file_options: dict, force: bool = False) -> None:
    from ..generator.nights import generate_nights

    given = [name for name, value in single_file_options.items() if value is not None]
    wrong = []
    if out_dir is None:
        wrong.append("needs --out-dir DIR (the folder for the nightly files and manifest.json)")
    if given:
        wrong.append(f"does not take {', '.join(given)} "
                     f"({'options' if len(given) > 1 else 'an option'} for one file)")
    if wrong:
        complain("--nights " + " and ".join(wrong))
        sys.exit(EXIT_TROUBLE)
    try:
        manifest = generate_nights(Path(out_dir), nights=nights, seed=seed, kind=kind,
                                   force=force)
    except (OSError, ValueError) as exc:
        complain(f"cannot write nights into {out_dir}: {exc}")
        sys.exit(EXIT_TROUBLE)
    click.echo(f"{out_dir}: {len(manifest['files'])} nightly files, "
               f"{len(manifest['claims'])} claims, {manifest['planted']} planted events",
               err=True)


def _parse_size(text: str) -> int:
    """'500000', '10MB', '1.5GB' -> bytes (MB = 2^20); exit 2 on anything else."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMG]?)B?\s*", text.upper())
    size = int(float(match.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20,
                                        "G": 1 << 30}[match.group(2)]) if match else 0
    if not 0 < size <= 1 << 40:
        complain(f"--size {text!r} is not a size such as 500000, 10MB or 1GB")
        sys.exit(EXIT_TROUBLE)
    return size
