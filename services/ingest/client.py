"""``wuxi-upload upload FILE --url URL --key KEY``: a bureau uploads a CSV or .xlsx file.

Installed on a bureau's PC as its own wheel, which needs httpx alone (``python scripts/build_client.py``
builds it; README, "Command-line client for bureaus"); from a checkout, ``python -m services.ingest.client``.

The file (a spreadsheet's CSV export, UTF-8 or GB18030/GBK, Chinese or English headers, or SDMX-CSV) is
sent in chunks of rows to ``POST /v1/observations/upload``, with a progress bar on stderr. First every chunk
is checked (a dry run, nothing stored); only when the whole file is valid are the chunks stored, each with
an Idempotency-Key derived from the file, so rerunning after a failure stores nothing twice. Per-row results
(or every problem, by line and column of the file) go to stdout.

Exit status: 0 stored, 1 rows rejected (nothing stored), 2 the file cannot be read, 3 the server or the
network failed (rerun: chunks already stored come back unchanged).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

# Standard library only (not domain/files.py, which needs the catalogue): the client installs with httpx alone.
from services.ingest.domain.csvtext import FileProblem, read_csv

KEY_ENV = "WUXI_INGEST_KEY"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Chunk:
    """Some rows of the file, re-encoded as UTF-8 CSV with the header, and where each row came from."""

    index: int
    body: bytes
    lines: dict[int, int]  # line in the chunk -> line in the file
    rows: int
    content_type: str = "text/csv; charset=utf-8"


class ClientError(Exception):
    """A failure that ends the upload with an exit status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def split_file(data: bytes, chunk_rows: int) -> tuple[list[Chunk], int]:
    """Split a CSV file into chunks of at most ``chunk_rows`` data rows; returns them and the row count."""
    text = read_csv(data)  # the server's own reader: the same lines, the same problems
    chunks: list[Chunk] = []
    for n, start in enumerate(range(0, len(text.records), chunk_rows)):
        out = io.StringIO()
        writer = csv.writer(out, delimiter=text.delimiter, lineterminator="\n")
        writer.writerow(text.header)
        lines: dict[int, int] = {}
        part = text.records[start : start + chunk_rows]
        for file_line, cells in part:
            lines[out.getvalue().count("\n") + 1] = file_line
            writer.writerow(cells)
        chunks.append(Chunk(n, out.getvalue().encode(), lines, len(part)))
    return chunks, len(text.records)


class Progress:
    """A progress bar on stderr (redrawn in place on a terminal, one line per step otherwise)."""

    def __init__(self, stream: TextIO, label: str, total: int) -> None:
        self.stream = stream
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.tty = stream.isatty()

    def advance(self, n: int) -> None:
        self.done += n
        width = 30
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "." * (width - filled)
        msg = f"{self.label} [{bar}] {self.done}/{self.total} rows"
        if self.tty:
            self.stream.write("\r" + msg)
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(msg + "\n")
        self.stream.flush()


def _post(client: httpx.Client, url: str, key: str, chunk: Chunk, *, fmt: str, dry_run: bool, idem: str | None,
          attempts: int = 5) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": chunk.content_type}
    if idem is not None:
        headers["Idempotency-Key"] = idem
    params = {"format": fmt, "dry_run": "true" if dry_run else "false"}
    delay = 0.5
    for attempt in range(attempts):
        try:
            r = client.post(f"{url}/v1/observations/upload", content=chunk.body, headers=headers, params=params)
        except httpx.TransportError as exc:
            if attempt == attempts - 1:
                raise ClientError(3, f"cannot reach {url}: {exc}") from None
            time.sleep(delay)
            delay *= 2
            continue
        if r.status_code == 429 or r.status_code >= 500:
            if attempt == attempts - 1:
                raise ClientError(3, f"the server answered {r.status_code}: {r.text[:300]}")
            time.sleep(float(r.headers.get("Retry-After", delay)))
            delay *= 2
            continue
        return r
    raise AssertionError("unreachable")


def _problems(r: httpx.Response, chunk: Chunk) -> list[str]:
    """Every problem of an error answer (problem details: ``errors[]``), located in the file, Chinese first."""
    try:
        problem = r.json()
        errors: list[dict[str, Any]] = problem["errors"]
    except (ValueError, KeyError, TypeError):
        return [f"HTTP {r.status_code}: {r.text[:300]}"]
    if not errors:
        return [f"HTTP {r.status_code}: {problem.get('detail')} ({problem.get('detail_en')})"]
    out = []
    for d in errors:
        loc = d.get("loc", [])
        if len(loc) >= 2 and loc[0] == "file" and isinstance(loc[1], int):
            where = f"line {chunk.lines.get(loc[1], loc[1])}"
            if len(loc) > 2:
                where += f", column {loc[2]}"
        else:
            where = ".".join(str(p) for p in loc)
        out.append(f"{where}: {d.get('msg_zh')} ({d.get('msg')}) [{d.get('type')}]")
    return out


def upload(path: Path, *, url: str, key: str, fmt: str = "auto", chunk_rows: int = 500, check: bool = True,
           dry_run: bool = False, out: TextIO | None = None, err: TextIO | None = None,
           transport: httpx.BaseTransport | None = None) -> int:
    """Upload a file; prints per-row results to ``out`` and progress to ``err``; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    data = path.read_bytes()
    try:
        if path.suffix.lower() == ".xlsx":
            # A workbook goes whole (the server reads it; its rows are the sheet's, so no line mapping); it is
            # bounded by the server's row and body limits, not split here (that would need openpyxl).
            chunks, total = [Chunk(0, data, {}, 1, XLSX)], 1
        else:
            chunks, total = split_file(data, chunk_rows)
    except FileProblem as exc:
        print(f"{path}: {exc.message_zh} ({exc.message}) [{exc.rule}]", file=err)
        return 2
    if total == 0:
        print(f"{path}: no data rows", file=err)
        return 2
    digest = hashlib.sha256(data).hexdigest()[:32]
    url = url.rstrip("/")
    try:
        with httpx.Client(timeout=120, transport=transport) as client:
            if check or dry_run:
                problems: list[str] = []
                bar = Progress(err, "checking ", total)
                results: list[dict[str, Any]] = []
                for chunk in chunks:
                    r = _post(client, url, key, chunk, fmt=fmt, dry_run=True, idem=None)
                    if r.status_code == 200:
                        results.extend(_mapped_rows(r, chunk))
                    else:
                        problems.extend(_problems(r, chunk))
                        if r.status_code in (400, 401):  # the same for every chunk
                            break
                    bar.advance(chunk.rows)
                if problems:
                    print(f"{path}: rejected, nothing stored:", file=out)
                    for p in problems:
                        print(f"  {p}", file=out)
                    return 1
                if dry_run:
                    _print_rows(out, path, results, stored=False)
                    return 0
            bar = Progress(err, "uploading", total)
            results = []
            for chunk in chunks:
                r = _post(client, url, key, chunk, fmt=fmt, dry_run=False, idem=f"upload-{digest}-{chunk.index}")
                if r.status_code not in (200, 201):
                    print(f"{path}: chunk {chunk.index + 1} of {len(chunks)} rejected "
                          f"({len(results)} earlier rows are stored):", file=out)
                    for p in _problems(r, chunk):
                        print(f"  {p}", file=out)
                    return 1
                results.extend(_mapped_rows(r, chunk))
                bar.advance(chunk.rows)
    except ClientError as exc:
        print(f"{path}: {exc}", file=err)
        return exc.status
    _print_rows(out, path, results, stored=True)
    return 0


def _mapped_rows(r: httpx.Response, chunk: Chunk) -> Iterator[dict[str, Any]]:
    for row in r.json()["rows"]:
        yield {**row, "line": chunk.lines.get(row["line"], row["line"])}


def _print_rows(out: TextIO, path: Path, rows: list[dict[str, Any]], *, stored: bool) -> None:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
        print(f"line {row['line']:>5}  {row['outcome']:<9}  vintage {row['vintage']:<3} {row['id']}", file=out)
    summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
    print(f"{path}: {len(rows)} rows {'stored' if stored else 'checked, nothing stored'} ({summary})", file=out)


def main(argv: list[str] | None = None) -> int:
    """Run the client; returns the exit status."""
    # The same client as the console script wuxi-upload (scripts/build_client.py) and python -m.
    prog = "wuxi-upload" if Path(sys.argv[0]).name == "wuxi-upload" else "python -m services.ingest.client"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upload", help="upload a CSV, SDMX-CSV or .xlsx file")
    up.add_argument("file", type=Path)
    up.add_argument("--url", required=True, help="ingest's base URL, e.g. https://ingest.example.gov.cn")
    up.add_argument("--key", default=os.environ.get(KEY_ENV), help=f"the API key (default: ${KEY_ENV})")
    up.add_argument("--format", default="auto", choices=["auto", "csv", "sdmx-csv"])
    up.add_argument("--chunk-rows", type=int, default=500, help="rows per request (default 500)")
    up.add_argument("--dry-run", action="store_true", help="check and show what would happen; store nothing")
    up.add_argument("--no-check", action="store_true", help="skip the checking pass (chunks may then be "
                    "stored before a later one is rejected)")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error(f"no API key: pass --key or set {KEY_ENV}")
    if not args.file.is_file():
        parser.error(f"no such file: {args.file}")
    return upload(args.file, url=args.url, key=args.key, fmt=args.format, chunk_rows=max(1, args.chunk_rows),
                  check=not args.no_check, dry_run=args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
