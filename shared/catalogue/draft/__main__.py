"""Command line: draft a catalogue from a report, print it as TOML or JSON, or compare it with a catalogue."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from shared.catalogue.draft.against import compare, diff_json, diff_text
from shared.catalogue.draft.emit import to_json, to_toml
from shared.catalogue.draft.extract import draft_text
from shared.catalogue.draft.items import DraftError, check_region
from shared.catalogue.draft.text import ReportNotTextError, read_report
from shared.catalogue.loader import CatalogueError, load_catalogue
from shared.regions import REGIONS


def _region(value: str) -> str:
    try:
        return check_region(value)
    except DraftError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--region：")) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m shared.catalogue.draft",
        description="Draft a target catalogue from a work report's text (UTF-8) for a person to review.",
    )
    p.add_argument("report", type=Path, help="the report as UTF-8 plain text")
    p.add_argument("--json", action="store_true", help="print the drafted targets as a JSON array")
    p.add_argument("--against", type=Path, metavar="CATALOGUE",
                   help="print what differs from this catalogue (new, changed, gone) instead of the draft")
    p.add_argument("-o", "--output", type=Path, help="write to this file (whole or not at all) instead of stdout")
    p.add_argument("--year", type=int, help="the year the targets are for, when the report does not say")
    p.add_argument("--region", type=_region, metavar="REGION",
                   help=f"the region the targets are for, written as the draft's region ({', '.join(REGIONS)}); "
                        "default: none written, the city's")
    p.add_argument("--default-strength", choices=("binding", "expected"),
                   help="the strength of a commitment no word qualifies, written unflagged (binding with the "
                        "marker 约束性, expected with none); default: expected, flagged for review")
    return p


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    # Written next to the target and renamed over it: a reader never sees half a draft.
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status (2 for input that cannot be read)."""
    args = _parser().parse_args(argv)
    try:
        text = read_report(args.report)
        draft = draft_text(text, year=args.year, region=args.region, default_strength=args.default_strength)
        catalogue = load_catalogue(args.against) if args.against else None
    except (ReportNotTextError, DraftError, CatalogueError) as exc:
        print(f"{args.report}: {exc}" if not isinstance(exc, CatalogueError) else f"{args.against}: {exc}",
              file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    if catalogue is not None:
        diff = compare(draft, catalogue)
        _write(diff_json(diff) if args.json else diff_text(diff), args.output)
    else:
        _write(to_json(draft) if args.json else to_toml(draft, args.report.name), args.output)
    flagged = sum(1 for i in draft.items if i.review)
    print(f"drafted {len(draft.items)} targets ({sum(1 for i in draft.items if i.value is not None)} with a "
          f"number), {flagged} to review, {len(draft.skipped)} numbers not drafted", file=sys.stderr)
    for warning in draft.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
