"""Ingest's bureau routes: translate requests to use cases and back; the route owns the transaction, and leaves
its commit to ``services/ingest/commits.py``.

Bodies are read raw and validated with ``TypeAdapter.validate_json`` (no intermediate dicts: the fast path
for 1,000-row batches). Batches and files are parsed, checked and written in worker threads, at most
INGEST_BATCH_CONCURRENCY at once; single POSTs are checked on the event loop and written by the single-writes
thread with the others waiting. The event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import TypeAdapter, ValidationError

from services.ingest.adapters.store import Transaction
from services.ingest.adapters.workbook import XLSX, SheetTable, column_letter, read_sheet, write_template
from services.ingest.api.auth import bureau_key
from services.ingest.api.problems import located, rejected
from services.ingest.api.schemas import (
    NO_NUL,
    BatchAccepted,
    IndicatorOut,
    KeyInfo,
    ObservationAccepted,
    ObservationBatchIn,
    ObservationIn,
    ObservationOut,
    SkippedRow,
    UploadAccepted,
    UploadRowResult,
)
from services.ingest.commits import Answer, IdempotencyKeyReused, Writer, commit_one
from services.ingest.domain.files import FileProblem, parse_file, parse_table
from services.ingest.domain.idempotency import fingerprint
from services.ingest.domain.keys import ApiKey, read_errors, scope_errors
from services.ingest.domain.observations import (
    Checked,
    FieldError,
    ObservationQuery,
    Outcome,
    Submission,
    check_submission,
)
from services.ingest.domain.templates import build_template
from services.ingest.service import Recorded, record_observations
from services.ingest.wiring import IngestWiring, wiring
from shared.catalogue.model import Frequency, Measure
from shared.clock import china_date
from shared.problems import Failure, Problem, ProblemDetail, validation_failures
from shared.regions import REGIONS
from shared.units import convertible_units
from shared.wording import period_label, reading_of

router = APIRouter(prefix="/v1", tags=["observations"])

_PERIOD_FORMATS = {
    Frequency.MONTHLY: ["YYYY-MMM (e.g. 2024-M03; 2024-M02 = 1—2月)", "YYYY-Qn", "YYYY-Sn", "YYYY"],
    Frequency.QUARTERLY: ["YYYY-Qn", "YYYY-Sn", "YYYY"],
    Frequency.HALF_YEARLY: ["YYYY-Sn", "YYYY"],
    Frequency.ANNUAL: ["YYYY"],
}
_OBSERVATION = TypeAdapter(ObservationIn)
_BATCH = TypeAdapter(ObservationBatchIn)


def _err(description: str) -> dict[str, Any]:
    return {"model": ProblemDetail, "description": description}


_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _err("No API key, a malformed Authorization header, an unknown or a revoked key (the message says which)"),
    422: _err("Invalid parameters: every field and rule"),
    429: {**_err("Rate limit of the key exceeded, or too many unknown keys from this client address"),
          "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}},
}
_READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTH_ERRORS, 403: _err("An indicator or region the key may not submit, hence not read"),
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTH_ERRORS,
    403: _err("A row outside the key's scope: every indicator and region not allowed"),
    409: _err("Another request changed the same series at the same moment: retry"),
    413: _err("Request body larger than INGEST_MAX_BODY_BYTES"),
    422: _err("Invalid rows: every bad row, field and rule; or an Idempotency-Key reused with another body; "
              "for an upload, also a file that is not a valid .xlsx workbook, an unknown sheet, merged cells"),
}
_IDEMPOTENCY = Header(
    default=None, alias="Idempotency-Key", min_length=1, max_length=200,
    description="Makes a retry safe: a repeat with the same key and body gets the stored response "
    "(header Idempotent-Replayed: true); the same key with another body is refused (422). Kept 24 h.",
)


def _json_body(model: str) -> dict[str, Any]:
    # The body is read raw (see the module docstring), so the OpenAPI document is told its schema here.
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}}}}


def _submission(item: ObservationIn) -> Submission:
    return Submission(
        indicator=item.indicator, region=item.region, period=item.period, measure=item.measure.value,
        value=item.value, unit=item.unit, status=item.status.value, note=item.note, source=item.source,
        revision_reason=item.revision_reason,
        growth_basis=item.growth_basis.value if item.growth_basis is not None else None,
    )


def _check(rt: IngestWiring, subs: list[Submission]) -> tuple[list[Checked], list[FieldError]]:
    today = china_date(rt.clock())
    checked: list[Checked] = []
    errors: list[FieldError] = []
    for i, sub in enumerate(subs):
        result = check_submission(rt.catalogue, i, sub, today)
        if isinstance(result, list):
            errors.extend(result)
        else:
            checked.append(result)
    return checked, errors


def _pydantic_problems(exc: ValidationError) -> list[Failure]:
    return validation_failures(exc.errors(include_url=False), ("body",))


def _batch_problems(rt: IngestWiring, body: bytes, exc: ValidationError) -> list[Failure]:
    """Every problem of a batch that failed schema validation: its schema errors, plus the rule errors of the
    rows that are well-formed, so one answer lists every bad row and field."""
    problems = _pydantic_problems(exc)
    try:
        doc = json.loads(body)
    except ValueError:
        return problems
    rows = doc.get("observations") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        return problems
    for i, raw in enumerate(rows[: rt.settings.max_batch_size]):
        try:
            item = _OBSERVATION.validate_python(raw)
        except ValidationError:
            continue  # its schema errors are in ``problems`` already
        result = check_submission(rt.catalogue, i, _submission(item), china_date(rt.clock()))
        if isinstance(result, list):
            problems.extend(located(result, ("body", "observations")))
    problems.sort(key=lambda p: (p.loc[2] if len(p.loc) > 2 and isinstance(p.loc[2], int) else -1))
    return problems


def _reused(exc: IdempotencyKeyReused) -> Problem:
    return Problem.of(
        422, "idempotency_key_reused",
        f"Idempotency-Key {exc.key!r} was used at {exc.used_at:%Y-%m-%d %H:%M:%S} for a different request; use a "
        "new key for a new request",
        f"Idempotency-Key“{exc.key}”已于 {exc.used_at:%Y-%m-%d %H:%M:%S}（UTC）用于另一请求；新的请求请使用新的键",
        loc=("header", "Idempotency-Key"))


def _answered(rt: IngestWiring, answer: Answer) -> Response:
    """The response of a committed request, its rows counted and the relay woken for new events."""
    if answer.replayed:
        return Response(answer.body, answer.status, media_type="application/json",
                        headers={"Idempotent-Replayed": "true"})
    counts = _counts(answer.results)
    for outcome, n in counts.items():
        if n:
            rt.counters.observations.labels(outcome.value).inc(n)
    if counts[Outcome.CREATED] or counts[Outcome.REVISED]:
        rt.relay.wake()
    return Response(answer.body, answer.status, media_type="application/json")


def _commit(rt: IngestWiring, request: Request, key: ApiKey, idem: str | None, body: bytes, write: Writer,
            *, dry_run: bool = False) -> Response:
    """Run ``write`` in one transaction with the Idempotency-Key bookkeeping (commit_one); a dry run is rolled
    back."""
    try:
        answer = commit_one(rt.store, key_id=key.id, idem=idem,
                            fingerprint=fingerprint(request.method, request.url.path, request.url.query, body),
                            write=write, now=rt.clock(), idempotency_ttl=rt.settings.idempotency_ttl,
                            dry_run=dry_run)
    except IdempotencyKeyReused as exc:
        raise _reused(exc) from None
    if dry_run:
        return Response(answer.body, answer.status, media_type="application/json")
    return _answered(rt, answer)


def _counts(results: list[Recorded]) -> dict[Outcome, int]:
    counts = dict.fromkeys(Outcome, 0)
    for r in results:
        counts[r.outcome] += 1
    return counts


def _record(rt: IngestWiring, key: ApiKey, checked: list[Checked]) -> Callable[[Transaction], list[Recorded]]:
    def run(tx: Transaction) -> list[Recorded]:
        return record_observations(tx.observations, tx.events, checked, submitted_by=key.organisation,
                                   api_key_id=key.id, now=rt.clock())
    return run


@router.post(
    "/observations",
    response_model=ObservationAccepted,
    status_code=201,
    summary="Submit one observation",
    responses={200: {"model": ObservationAccepted, "description": "Identical to the stored figure: unchanged, "
                     "or a replayed Idempotency-Key response"}, **_WRITE_ERRORS},
    openapi_extra=_json_body("ObservationIn"),
)
async def submit_observation(request: Request, key: ApiKey = Depends(bureau_key),
                             idempotency_key: str | None = _IDEMPOTENCY,
                             rt: IngestWiring = Depends(wiring)) -> Response:
    """Store one figure; a different value for a stored series is a revision, an identical one changes nothing."""
    body = await request.body()
    try:
        item = _OBSERVATION.validate_json(body)
    except ValidationError as exc:
        raise Problem(422, _pydantic_problems(exc)) from None
    sub = _submission(item)
    if denied := scope_errors(key, [(0, sub.indicator, sub.region)], rt.catalogue.indicators):
        raise rejected(403, denied, ("body",))
    checked, errors = _check(rt, [sub])
    if errors:
        raise rejected(422, errors, ("body",))
    # Written with the other single POSTs waiting, in one transaction (services/ingest/commits.py).
    future = rt.singles.submit(key, idempotency_key, fingerprint(request.method, request.url.path,
                                                                 request.url.query, body), checked[0])
    try:
        answer = await asyncio.wrap_future(future)
    except IdempotencyKeyReused as exc:
        raise _reused(exc) from None
    return _answered(rt, answer)


@router.post(
    "/observations/batch",
    response_model=BatchAccepted,
    status_code=201,
    summary="Submit a batch of observations atomically",
    responses={200: {"model": BatchAccepted, "description": "A replayed Idempotency-Key response"},
               **_WRITE_ERRORS},
    openapi_extra=_json_body("ObservationBatchIn"),
)
async def submit_batch(request: Request, key: ApiKey = Depends(bureau_key),
                       idempotency_key: str | None = _IDEMPOTENCY, rt: IngestWiring = Depends(wiring)) -> Response:
    """Store every row or none (at most INGEST_MAX_BATCH_SIZE rows): a single bad row rejects the batch, and
    the answer lists every bad row, field and rule."""
    body = await request.body()
    # Parsed, checked and written in a worker thread, at most INGEST_BATCH_CONCURRENCY batches at once.
    return await to_thread.run_sync(_batch, rt, request, key, idempotency_key, body, limiter=rt.batch_slots)


def _batch(rt: IngestWiring, request: Request, key: ApiKey, idem: str | None, body: bytes) -> Response:
    try:
        batch = _BATCH.validate_json(body)
    except ValidationError as exc:
        raise Problem(422, _batch_problems(rt, body, exc)) from None
    limit = rt.settings.max_batch_size
    if len(batch.observations) > limit:
        raise Problem.of(422, "batch_too_large", f"{len(batch.observations)} observations; at most {limit} per "
                         "request (INGEST_MAX_BATCH_SIZE)",
                         f"共{len(batch.observations)}条观测值，每次最多{limit}条；请分批提交",
                         loc=("body", "observations"))
    subs = [_submission(o) for o in batch.observations]
    del batch  # the rows live on as submissions
    if denied := scope_errors(key, [(i, s.indicator, s.region) for i, s in enumerate(subs)],
                               rt.catalogue.indicators):
        raise rejected(403, denied, ("body", "observations"))
    checked, errors = _check(rt, subs)
    if errors:
        raise rejected(422, errors, ("body", "observations"))
    record = _record(rt, key, checked)

    def write(tx: Transaction) -> tuple[int, bytes, list[Recorded]]:
        results = record(tx)
        counts = _counts(results)
        payload = json.dumps({
            "results": [{"id": r.id, "outcome": r.outcome.value, "vintage": r.vintage} for r in results],
            "created": counts[Outcome.CREATED], "revised": counts[Outcome.REVISED],
            "unchanged": counts[Outcome.UNCHANGED],
        }).encode()
        return 201, payload, results

    return _commit(rt, request, key, idem, body, write)


_FILE_BODY = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}, "examples": {
        "bureau": {"summary": "A bureau's spreadsheet export (Chinese headers)", "value":
                   "指标,地区,期别,口径,数值,单位,数据状态,备注,来源\n"
                   "地区生产总值,江阴市,2024年一季度,累计增速,5.1,%,初步数,,江阴市统计局月报\n"},
        "sdmx": {"summary": "SDMX-CSV", "value":
                 "DATAFLOW,INDICATOR,REF_AREA,MEASURE,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,OBS_STATUS\n"
                 "WUXI:TARGETS(1.0),gdp,wuxi,cumulative_level,2024-Q1,3652.1,CNY,8,P\n"},
    }},
    XLSX: {"schema": {"type": "string", "format": "binary"}},
}}}


@router.post(
    "/observations/upload",
    response_model=UploadAccepted,
    status_code=201,
    summary="Upload a CSV, SDMX-CSV or Excel (.xlsx) file of observations (atomic, per-row results)",
    responses={200: {"model": UploadAccepted, "description": "A dry run, or a replayed Idempotency-Key response"},
               400: _err("The file cannot be read: encoding, broken quoting, empty file"),
               **_WRITE_ERRORS},
    openapi_extra=_FILE_BODY,
)
async def upload_file(
    request: Request,
    key: ApiKey = Depends(bureau_key),
    idempotency_key: str | None = _IDEMPOTENCY,
    format: Literal["auto", "csv", "sdmx-csv"] = Query(default="auto", description="auto detects SDMX-CSV"),
    dry_run: bool = Query(default=False, description="Check and compare with what is stored; store nothing"),
    sheet: str | None = Query(default=None, min_length=1, max_length=31, pattern=NO_NUL,
                              description="For an .xlsx file: the worksheet to read (default: the first)"),
    rt: IngestWiring = Depends(wiring),
) -> Response:
    """Store every row of the file or none. Headers may be Chinese (指标, 地区, 期别, 口径, 数值, 单位, 数据状态,
    备注, 来源, 修订原因) or English; the file may be UTF-8 (with or without BOM) or GB18030/GBK CSV, or an
    .xlsx workbook (Content-Type application/vnd.openxmlformats-officedocument.spreadsheetml.sheet)."""
    body = await request.body()
    is_xlsx = request.headers.get("content-type", "").split(";")[0].strip().lower() == XLSX
    return await to_thread.run_sync(_upload, rt, request, key, idempotency_key, body, format, dry_run,
                                    sheet if is_xlsx else None, is_xlsx, limiter=rt.batch_slots)


def _upload(rt: IngestWiring, request: Request, key: ApiKey, idem: str | None, body: bytes, fmt: str,
            dry_run: bool, sheet: str | None = None, is_xlsx: bool = False) -> Response:
    table: SheetTable | None = None
    try:
        if is_xlsx:
            table = read_sheet(body, sheet, rt.settings.max_batch_size)
            parsed = parse_table(table.header, table.records, rt.catalogue, fmt, encoding="xlsx",
                                 header_line=table.header_line, kind="xlsx")
            parsed.errors[:0] = table.errors
        else:
            parsed = parse_file(body, rt.catalogue, fmt)
    except FileProblem as exc:
        status = 400 if exc.rule in ("encoding", "csv_quoting", "empty_file", "nul_character") else 422
        raise Problem.of(status, exc.rule, exc.message, exc.message_zh, loc=("file", exc.line or 1)) from None
    where = _cell_names(table)
    if not parsed.rows and not parsed.errors:
        raise Problem.of(422, "no_rows", "the file has a header but no data rows", "文件只有表头，没有数据行",
                         loc=("file",))
    limit = rt.settings.max_batch_size
    if len(parsed.rows) + len({e.row for e in parsed.errors}) > limit:
        raise Problem.of(422, "batch_too_large", f"more than {limit} rows; split the file (the command-line "
                         "client does this)", f"超过{limit}行；请拆分文件（命令行客户端会自动拆分）", loc=("file",))
    lines = [r.line for r in parsed.rows]
    denied = scope_errors(key, [(r.line, r.submission.indicator, r.submission.region) for r in parsed.rows],
                          rt.catalogue.indicators)
    if denied:
        raise rejected(403, [where(_in_file(parsed.header_of, e)) for e in denied], ("file",))
    checked, errors = _check(rt, [r.submission for r in parsed.rows])
    errors = [*parsed.errors, *(_in_file(parsed.header_of, FieldError(lines[e.row], e.field, e.rule, e.message,
                                                                      e.message_zh))
                                for e in errors)]
    if errors:
        errors.sort(key=lambda e: e.row)
        raise rejected(422, [where(e) for e in errors], ("file",))
    record = _record(rt, key, checked)

    def write(tx: Transaction) -> tuple[int, bytes, list[Recorded]]:
        results = record(tx)
        counts = _counts(results)
        payload = UploadAccepted(
            format=parsed.format, encoding=parsed.encoding, dry_run=dry_run, ignored_columns=parsed.ignored_columns,
            sheet=table.sheet if table else None,
            skipped_rows=[SkippedRow(line=line, reason=reason) for line, reason in table.skipped] if table else [],
            rows=[_row_result(lines[r.row], r, checked[r.row]) for r in results],
            created=counts[Outcome.CREATED], revised=counts[Outcome.REVISED], unchanged=counts[Outcome.UNCHANGED],
        ).model_dump_json().encode()
        return (200 if dry_run else 201), payload, results

    return _commit(rt, request, key, idem, body, write, dry_run=dry_run)


_MEASURE_WORDS = {Measure.LEVEL: "当期值", Measure.CUMULATIVE_LEVEL: "累计值", Measure.YOY_PCT: "当期增速",
                  Measure.CUMULATIVE_YOY_PCT: "累计增速"}


def _row_result(line: int, r: Recorded, c: Checked) -> UploadRowResult:
    """One row's outcome, with what the row was read as (in words too, for the upload page)."""
    s, measure = c.submission, Measure(c.submission.measure)
    when = period_label(c.period, reading_of(measure, at_date=c.indicator.at_date))
    label = " · ".join((c.indicator.name_zh, REGIONS.get(s.region, s.region), when, _MEASURE_WORDS[measure]))
    return UploadRowResult(line=line, id=r.id, outcome=r.outcome.value, vintage=r.vintage, indicator=s.indicator,
                           region=s.region, period=c.period.code, measure=measure, value=c.value, unit=c.unit,
                           label_zh=label)


def _in_file(header_of: Callable[[str], str], e: FieldError) -> FieldError:
    return FieldError(e.row, header_of(e.field), e.rule, e.message, e.message_zh)


def _cell_names(table: SheetTable | None) -> Callable[[FieldError], FieldError]:
    """For a workbook, each message starts with the cell as Excel names it (第5行 C列); CSV errors are as they are."""
    if table is None:
        return lambda e: e
    columns = {h.strip(): column_letter(i) for i, h in reversed(list(enumerate(table.header)))}

    def name(e: FieldError) -> FieldError:
        letter = columns.get(e.field)
        zh, en = (f"第{e.row}行 {letter}列", f"row {e.row}, column {letter}") if letter else (
            f"第{e.row}行", f"row {e.row}")
        return FieldError(e.row, e.field, e.rule, f"{en}: {e.message}", f"{zh}：{e.message_zh}")
    return name


_TEMPLATE_NAME = "数据报送模板"


def _attachment(ext: str) -> dict[str, str]:
    # An ASCII filename for old clients, the Chinese one (RFC 6266 filename*) for the rest.
    return {"Content-Disposition": f"attachment; filename=\"template.{ext}\"; "
            f"filename*=UTF-8''{quote(_TEMPLATE_NAME)}.{ext}", "Cache-Control": "no-store"}


@router.get("/templates.xlsx", tags=["templates"], summary="The upload template of the key, as an Excel workbook",
            response_class=Response, responses={
                200: {"content": {XLSX: {}}, "description": "数据 (header frozen, choice lists), 指标, 填写说明"},
                401: _AUTH_ERRORS[401], 429: _AUTH_ERRORS[429]})
def template_xlsx(key: ApiKey = Depends(bureau_key), rt: IngestWiring = Depends(wiring)) -> Response:
    """The columns, the indicators this key may write (names, units, period formats) and one example row whose
    数值 is left blank; uploaded as filled in, it is accepted."""
    body = write_template(build_template(rt.catalogue, key, china_date(rt.clock())))
    return Response(body, media_type=XLSX, headers=_attachment("xlsx"))


@router.get("/templates.csv", tags=["templates"], summary="The upload template of the key, as CSV (UTF-8 with BOM)",
            response_class=Response, responses={
                200: {"content": {"text/csv": {}}, "description": "The header and one example row"},
                401: _AUTH_ERRORS[401], 429: _AUTH_ERRORS[429]})
def template_csv(key: ApiKey = Depends(bureau_key), rt: IngestWiring = Depends(wiring)) -> Response:
    """The template's header and example row as CSV; the BOM makes Excel open it as UTF-8, not as GBK."""
    template = build_template(rt.catalogue, key, china_date(rt.clock()))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(template.columns)
    if template.example:
        writer.writerow(template.example)
    return Response(("\ufeff" + out.getvalue()).encode(), media_type="text/csv; charset=utf-8",
                    headers=_attachment("csv"))


@router.get("/observations", response_model=list[ObservationOut], summary="Observations with their vintages",
            responses=_READ_ERRORS)
def list_observations(
    key: ApiKey = Depends(bureau_key),
    indicator: str = Query(min_length=1, max_length=64, pattern=NO_NUL, examples=["gdp"]),
    region: str | None = Query(default=None, max_length=32, pattern=NO_NUL, examples=["wuxi"]),
    period: str | None = Query(default=None, max_length=16, pattern=NO_NUL, examples=["2024-Q1"]),
    current_only: bool = Query(default=False, description="Only the latest vintage of each series"),
    limit: int = Query(default=1000, ge=1, le=10000),
    rt: IngestWiring = Depends(wiring),
) -> list[ObservationOut]:
    """Stored observations of an indicator, every vintage (oldest first), optionally by region and period.

    A key reads only the indicators and regions it may submit (403 otherwise; without a region, only its own
    regions are listed)."""
    if denied := read_errors(key, indicator, region):
        raise rejected(403, denied, ("query",))
    q = ObservationQuery(indicator=indicator, region=region, period=period, current_only=current_only, limit=limit,
                         regions=key.regions)
    with rt.store.reading() as reads:
        return [ObservationOut.model_validate(o, from_attributes=True) for o in reads.observations.search(q)]


@router.get("/indicators", response_model=list[IndicatorOut], tags=["catalogue"], summary="Indicators accepted")
def list_indicators(rt: IngestWiring = Depends(wiring)) -> list[IndicatorOut]:
    """Every indicator ingest accepts, with its unit, the units it converts from, frequency and measures."""
    return [
        IndicatorOut(
            id=i.id, name_zh=i.name_zh, name_en=i.name_en, unit=i.unit, accepted_units=convertible_units(i.unit),
            frequency=i.frequency, period_formats=_PERIOD_FORMATS[i.frequency], measures=list(i.measures),
            min_value=i.min_value, max_value=i.max_value, growth_basis=i.growth_basis,
        )
        for i in rt.catalogue.indicators.values()
    ]


@router.get("/keys/me", response_model=KeyInfo, tags=["keys"], summary="The calling key: organisation and scope",
            responses={401: _AUTH_ERRORS[401], 429: _AUTH_ERRORS[429]})
def my_key(key: ApiKey = Depends(bureau_key)) -> KeyInfo:
    """What the presented key may submit (a key sees only itself)."""
    return key_info(key)


def key_info(key: ApiKey) -> KeyInfo:
    """A key as shown to its holder and the operator."""
    return KeyInfo(
        id=key.id, organisation=key.organisation, description=key.description, key_prefix=key.key_prefix,
        indicators=None if key.indicators is None else sorted(key.indicators),
        regions=None if key.regions is None else sorted(key.regions),
        created_at=key.created_at, revoked_at=key.revoked_at,
    )
