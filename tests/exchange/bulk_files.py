"""Build CSV and XLSX upload files for the bulk-upload tests."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook

from exchange.bulk import COLUMNS, EXAMPLE_ROW, Column

HEADER_FORMS = ("combined", "en", "zh", "key")


def header(column: Column, form: str = "combined") -> str:
    return {
        "combined": column.header,
        "en": column.header_en,
        "zh": column.header_zh,
        "key": column.key,
    }[form]


def headers(form: str = "combined", columns: Iterable[Column] = COLUMNS) -> list[str]:
    return [header(column, form) for column in columns]


def column(key: str) -> Column:
    return next(c for c in COLUMNS if c.key == key)


def example_row(**changes: Any) -> list[Any]:
    """The template's example row (cell values in COLUMNS order).

    Keyword names are column keys with "." written as "__"
    (``pcf__declaredUnitAmount="2"``); a value replaces that cell.
    """
    values: dict[str, Any] = dict(EXAMPLE_ROW)
    for name, value in changes.items():
        key = name.replace("__", ".")
        assert any(c.key == key for c in COLUMNS), key
        values[key] = value
    return [values.get(c.key, "") for c in COLUMNS]


def row_from_document(document: Mapping[str, Any]) -> list[str]:
    """A footprint written as a template row (COLUMNS order), the way a user would type it."""
    cells = []
    for col in COLUMNS:
        value: Any = document
        for segment in col.key.split("."):
            if isinstance(value, list):
                value = value[int(segment)] if int(segment) < len(value) else None
            elif isinstance(value, dict):
                value = value.get(segment)
            else:
                value = None
        if value is None:
            cells.append("")
        elif isinstance(value, bool):
            cells.append("true" if value else "false")
        elif col.key == "pcf.secondaryEmissionFactorSources":
            cells.append("; ".join(f"{s['name']} {s['version']}" for s in value))
        elif isinstance(value, list):
            cells.append("; ".join(value))
        else:
            cells.append(str(value))
    return cells


def csv_bytes(
    rows: Sequence[Sequence[Any]],
    *,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode(encoding)


def xlsx_bytes(
    rows: Sequence[Sequence[Any]],
    *,
    title: str = "Footprints",
    formats: Mapping[tuple[int, int], str] | None = None,
    sheets_before: Sequence[str] = (),
) -> bytes:
    """A workbook whose sheet ``title`` holds ``rows`` (row 1 first).

    Values are written as openpyxl would from Python: str, int, float, bool, datetime;
    a str starting with "=" becomes a formula. ``formats`` maps (row, column), both
    1-based, to a number format such as "0.0%". ``sheets_before`` adds empty sheets in
    front of the data sheet.
    """
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    for index, name in enumerate(sheets_before):
        if index == 0:
            first.title = name
        else:
            workbook.create_sheet(name)
    sheet = workbook.create_sheet(title) if sheets_before else first
    if not sheets_before:
        sheet.title = title
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is None or value == "":
                continue
            cell = sheet.cell(row=r, column=c, value=value)
            if formats and (r, c) in formats:
                cell.number_format = formats[(r, c)]
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def many_rows(count: int) -> list[list[str]]:
    """``count`` distinct example rows (own product id and figures each)."""
    base = example_row()
    product = [c.key for c in COLUMNS].index("productIds")
    figure = [c.key for c in COLUMNS].index("pcf.fossilGhgEmissions")
    rows = []
    for n in range(count):
        row = list(base)
        row[product] = f"urn:pact:supplier.example:supplier-id:LC-{n:05d}"
        row[figure] = f"9.{n % 100:02d}"
        rows.append(row)
    return rows


def big_csv(count: int) -> bytes:
    return csv_bytes([headers(), *many_rows(count)])


def big_xlsx(count: int) -> bytes:
    """A workbook of ``count`` rows, written in openpyxl's streaming mode (fast)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Footprints")
    sheet.append(headers())
    for row in many_rows(count):
        sheet.append([value or None for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


_INLINE_RE = re.compile(
    r'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t(?: xml:space="preserve")?>'
    r"(.*?)</t></is></c>",
    re.DOTALL,
)


def with_shared_strings(data: bytes) -> bytes:
    """Rewrite an openpyxl workbook the way Excel stores text: in a shared-strings table.

    openpyxl writes every string inline; Excel (and so a user's saved file) keeps them in
    ``xl/sharedStrings.xml``, which readers parse much faster.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    strings: dict[str, int] = {}

    def shared(match: re.Match[str]) -> str:
        index = strings.setdefault(match.group(3), len(strings))
        return f'<c r="{match.group(1)}"{match.group(2)} t="s"><v>{index}</v></c>'

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                content = _INLINE_RE.sub(shared, content.decode()).encode()
            elif info.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                    b"</Types>",
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdShared" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" '
                    b'Target="sharedStrings.xml"/></Relationships>',
                )
            target.writestr(info.filename, content)
        items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in strings)
        target.writestr(
            "xl/sharedStrings.xml",
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>',
        )
    return out.getvalue()
