"""Bulk upload spreadsheets: template, parsing, row → PACT document, errors with row/column."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from exchange import bulk
from exchange.bulk import (
    COLUMNS,
    EXAMPLE_ROW,
    SPEC_VERSION,
    RowError,
    SheetError,
    column_for_pointer,
    error_report_csv,
    parse_upload,
    template_csv,
    template_xlsx,
)
from tests.exchange import bulk_files as bf

COMPANY = "Minjiang Lithium Materials Co., Ltd."
COMPANY_IDS = ["urn:pact:samr.gov.cn:uscc:91350100M000100Y43"]
NOW = datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
KEYS = [c.key for c in COLUMNS]


def parse(data: bytes, name: str = "upload.csv", *, max_rows: int = 100, now=NOW):
    return parse_upload(
        data,
        file_name=name,
        company_name=COMPANY,
        company_ids=COMPANY_IDS,
        now=now,
        max_rows=max_rows,
    )


def sheet_error(data: bytes, name: str = "upload.csv", **kwargs) -> list[RowError]:
    with pytest.raises(SheetError) as caught:
        parse(data, name, **kwargs)
    assert caught.value.errors
    assert str(caught.value)  # a readable summary for logs
    return caught.value.errors


def one_row_csv(**changes) -> bytes:
    return bf.csv_bytes([bf.headers(), bf.example_row(**changes)])


def one_row_xlsx(row, formats=None) -> bytes:
    return bf.xlsx_bytes([bf.headers(), row], formats=formats)


def cell_errors(data: bytes, name: str = "upload.csv") -> list[RowError]:
    rows, errors = parse(data, name)
    assert not rows
    return errors


def only_error(data: bytes, name: str = "upload.csv") -> RowError:
    errors = cell_errors(data, name)
    assert len(errors) == 1, errors
    return errors[0]


def position(key: str) -> int:
    return KEYS.index(key)


def validator():
    """The shared PACT validator (imported late: it is written alongside this module)."""
    validation = pytest.importorskip("exchange.pact.validation")
    return validation.validate_product_footprint


# --------------------------------------------------------------------------- columns


def test_columns_are_well_formed():
    assert len({c.key for c in COLUMNS}) == len(COLUMNS)
    assert len({c.header_en.casefold() for c in COLUMNS}) == len(COLUMNS)
    assert len({c.header_zh for c in COLUMNS}) == len(COLUMNS)
    for c in COLUMNS:
        assert c.kind in bulk.KINDS
        assert bool(c.choices) == (c.kind == "choice")
        assert c.help_en and c.help_zh and c.header_zh
        assert "/" not in c.header_en  # the combined header splits on it
    assert set(EXAMPLE_ROW) <= set(KEYS)


def test_columns_cover_every_required_pact_field_not_set_by_the_platform():
    required_top = {"productDescription", "productIds", "productNameCompany"}
    required_pcf = {
        "declaredUnitOfMeasurement",
        "declaredUnitAmount",
        "productMassPerDeclaredUnit",
        "referencePeriodStart",
        "referencePeriodEnd",
        "pcfExcludingBiogenicUptake",
        "pcfIncludingBiogenicUptake",
        "fossilGhgEmissions",
        "fossilCarbonContent",
        "ipccCharacterizationFactors",
        "crossSectoralStandards",
        "exemptedEmissionsPercent",
    }
    required = {c.key for c in COLUMNS if c.required}
    assert required == required_top | {f"pcf.{name}" for name in required_pcf}
    for optional in (
        "id",
        "precedingPfIds",
        "comment",
        "productClassifications",
        "pcf.geographyCountry",
        "pcf.geographyRegionOrSubregion",
        "pcf.geographyCountrySubdivision",
        "pcf.biogenicCarbonContent",
        "pcf.landUseChangeGhgEmissions",
        "pcf.primaryDataShare",
        "pcf.dqi.technologicalDQR",
        "pcf.packagingEmissionsIncluded",
        "pcf.packagingGhgEmissions",
        "pcf.boundaryProcessesDescription",
        "pcf.exemptedEmissionsDescription",
        "pcf.secondaryEmissionFactorSources",
    ):
        assert optional in KEYS


def test_choice_lists_match_the_validator():
    fields = pytest.importorskip("exchange.pact.fields")
    assert bf.column("pcf.declaredUnitOfMeasurement").choices == fields.DECLARED_UNITS
    assert bf.column("pcf.geographyRegionOrSubregion").choices == fields.REGIONS_OR_SUBREGIONS
    assert bf.column("pcf.ccuCalculationApproach").choices == fields.CCU_CALCULATION_APPROACHES
    assert (
        bf.column("pcf.productOrSectorSpecificRules.0.operator").choices
        == fields.PRODUCT_OR_SECTOR_RULE_OPERATORS
    )


# --------------------------------------------------------------------------- templates


def test_template_csv_is_utf8_with_bom_bilingual_headers_and_one_example():
    data = template_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == 2
    assert rows[0] == [f"{c.header_en} / {c.header_zh}" for c in COLUMNS]
    assert rows[0][position("pcf.declaredUnitOfMeasurement")] == "Declared unit / 声明单位"
    assert rows[1][position("pcf.declaredUnitOfMeasurement")] == "kilogram"


def test_template_xlsx_layout():
    workbook = load_workbook(io.BytesIO(template_xlsx()))
    assert workbook.sheetnames[:2] == ["Footprints", "Help - 说明"]
    sheet = workbook["Footprints"]
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == [c.header for c in COLUMNS]
    assert sheet.max_row == 2
    for index, c in enumerate(COLUMNS):
        letter = bulk._column_letter(index)
        header = sheet.cell(row=1, column=index + 1)
        assert c.help_en in header.comment.text and c.help_zh in header.comment.text
        assert sheet.column_dimensions[letter].width >= 14
        assert header.font.bold
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    lists = workbook["Lists"]
    assert lists.sheet_state == "hidden"
    choice_columns = [(i, c) for i, c in enumerate(COLUMNS) if c.kind == "choice"]
    assert len(validations) == len(choice_columns)
    for index, c in choice_columns:
        letter = bulk._column_letter(index)
        validation = validations[f"{letter}2:{letter}1048576"]
        assert validation.type == "list"
        sheet_name, cells = validation.formula1.split("!")
        assert sheet_name == "Lists"
        values = [row[0].value for row in lists[cells.replace("$", "")]]
        assert tuple(values) == c.choices


def test_template_help_sheet_explains_every_column_in_both_languages():
    workbook = load_workbook(io.BytesIO(template_xlsx()))
    rows = [[cell.value for cell in row] for row in workbook["Help - 说明"].iter_rows()]
    table = {row[0]: row for row in rows if row and row[0] in {c.header_en for c in COLUMNS}}
    assert len(table) == len(COLUMNS)
    for c in COLUMNS:
        row = table[c.header_en]
        assert row[1] == c.header_zh
        assert row[2] == ("yes / 是" if c.required else "no / 否")
        assert row[4] == c.help_en and row[5] == c.help_zh
        assert row[7] == c.key
    notes = " ".join(str(v) for row in rows[:10] for v in row if v)
    assert "CSV UTF-8" in notes and "paste values" in notes and "分号" in notes


@pytest.mark.parametrize("maker,name", [(template_csv, "t.csv"), (template_xlsx, "t.xlsx")])
def test_template_round_trip_gives_one_valid_footprint(maker, name):
    rows, errors = parse(maker(), name)
    assert errors == []
    assert len(rows) == 1
    assert rows[0].row == 2
    document = rows[0].document
    assert validator()(document) == []
    assert document["companyName"] == COMPANY
    assert document["companyIds"] == COMPANY_IDS
    assert document["specVersion"] == SPEC_VERSION
    assert document["status"] == "Active"
    assert document["created"] == "2026-02-03T04:05:06Z"
    assert str(uuid.UUID(document["id"])) == document["id"]
    assert document["pcf"]["referencePeriodStart"] == "2025-01-01T00:00:00Z"
    assert document["pcf"]["packagingEmissionsIncluded"] is True
    assert document["pcf"]["crossSectoralStandards"] == ["ISO14067", "PACT-3.0"]
    assert document["pcf"]["secondaryEmissionFactorSources"] == [
        {"name": "ecoinvent", "version": "3.10"}
    ]
    assert document["pcf"]["dqi"] == {
        "technologicalDQR": "1.8",
        "geographicalDQR": "2",
        "temporalDQR": "1.5",
    }


def test_template_with_excel_style_shared_strings_parses_the_same():
    rows, errors = parse(bf.with_shared_strings(template_xlsx()), "t.xlsx")
    assert errors == [] and len(rows) == 1
    reference, _ = parse(template_csv())
    expected = dict(reference[0].document, id=rows[0].document["id"])
    assert rows[0].document == expected


def test_a_footprint_typed_into_the_sheet_comes_back_unchanged():
    examples = pytest.importorskip("tests.exchange.pact_examples")
    original = examples.valid_footprint(companyName=COMPANY, companyIds=COMPANY_IDS)
    row = bf.row_from_document(original)
    for data, name in ((bf.csv_bytes([bf.headers(), row]), "a.csv"), (one_row_xlsx(row), "a.xlsx")):
        rows, errors = parse(data, name)
        assert errors == []
        document = rows[0].document
        assert document["id"] == original["id"]
        expected = dict(original, specVersion=SPEC_VERSION, created="2026-02-03T04:05:06Z")
        assert document == expected
        assert validator()(document) == []


def test_every_column_reaches_its_field():
    """The spec-complete example minus what a sheet cannot hold (extensions, verification,
    a second rule set), written as a row: every column lands where it should."""
    examples = pytest.importorskip("tests.exchange.pact_examples")
    original = dict(examples.full_footprint(), companyName=COMPANY, companyIds=COMPANY_IDS)
    original.pop("extensions")
    original["pcf"].pop("verification")
    original["pcf"]["productOrSectorSpecificRules"] = original["pcf"][
        "productOrSectorSpecificRules"
    ][1:]
    row = bf.row_from_document(original)
    other_geographies = {"pcf.geographyRegionOrSubregion", "pcf.geographyCountry"}
    assert {c.key for c in COLUMNS if not row[position(c.key)]} == other_geographies
    rows, errors = parse(bf.csv_bytes([bf.headers(), row]))
    assert errors == []
    document = rows[0].document
    assert validator()(document) == []
    # Date-times come back in UTC.
    assert document["validityPeriodStart"] == "2025-12-31T16:00:00Z"
    assert document["pcf"]["referencePeriodEnd"] == "2025-12-31T16:00:00Z"
    for doc in (document, original):
        for key in ("validityPeriodStart", "validityPeriodEnd", "created", "specVersion"):
            del doc[key]
        del doc["pcf"]["referencePeriodStart"], doc["pcf"]["referencePeriodEnd"]
    assert document == original


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize("form", bf.HEADER_FORMS)
def test_each_header_form_is_recognised(form):
    rows, errors = parse(bf.csv_bytes([bf.headers(form), bf.example_row()]))
    assert errors == [] and len(rows) == 1


def test_headers_ignore_case_spacing_width_and_a_required_star():
    def mangle(index: int, c) -> str:
        variants = [
            c.header_en.upper(),
            f"  {c.header_en.lower()}  ",
            f"{c.header_en}/{c.header_zh}",
            f"{c.header_en}   /   {c.header_zh} *",
            c.header_zh.replace("\uff08", "(").replace("\uff09", ")"),  # full-width → ASCII
            c.key.upper(),
        ]
        return variants[index % len(variants)]

    headers = [mangle(i, c) for i, c in enumerate(COLUMNS)]
    rows, errors = parse(bf.csv_bytes([headers, bf.example_row()]))
    assert errors == [] and len(rows) == 1


def test_bare_pact_field_names_are_headers_too():
    headers = [c.key.rsplit(".", 1)[-1] for c in COLUMNS]
    rows, errors = parse(bf.csv_bytes([headers, bf.example_row()]))
    assert errors == [] and len(rows) == 1


def test_optional_columns_may_be_left_out_and_reordered():
    keep = [c for c in COLUMNS if c.required][::-1]
    row = [EXAMPLE_ROW[c.key] for c in keep]
    rows, errors = parse(bf.csv_bytes([bf.headers("en", keep), row]))
    assert errors == []
    assert set(rows[0].document["pcf"]) == {
        c.key.split(".", 1)[1] for c in keep if c.key.startswith("pcf.")
    }
    assert validator()(rows[0].document) == []


def test_header_row_missing():
    errors = sheet_error(bf.csv_bytes([bf.example_row(), bf.example_row()]))
    assert errors == [
        RowError(
            1,
            "",
            "the header row is missing: row 1 must hold the column headers of the template, "
            "but none is known (first value: 'urn:pact:supplier.example:supplier-id:LC-BG-995')",
        )
    ]


def test_empty_first_row():
    errors = sheet_error(bf.csv_bytes([[], bf.headers(), bf.example_row()]))
    assert errors[0].row == 1 and "row 1 is empty" in errors[0].message


def test_unknown_headers_are_named_with_their_column_letter():
    headers = [*bf.headers(), "Colour", "颜色"]
    errors = sheet_error(bf.csv_bytes([headers, bf.example_row()]))
    letters = (bulk._column_letter(len(COLUMNS)), bulk._column_letter(len(COLUMNS) + 1))
    assert errors == [
        RowError(1, "", f"unknown column header 'Colour' in column {letters[0]}"),
        RowError(1, "", f"unknown column header '颜色' in column {letters[1]}"),
    ]


def test_missing_required_columns_are_each_named():
    keep = [c for c in COLUMNS if c.key not in {"pcf.declaredUnitOfMeasurement", "productIds"}]
    errors = sheet_error(bf.csv_bytes([bf.headers("combined", keep)]))
    assert errors == [
        RowError(1, "Product IDs", "required column is missing"),
        RowError(1, "Declared unit", "required column is missing"),
    ]


def test_duplicated_columns():
    headers = [*bf.headers(), "声明单位"]
    errors = sheet_error(bf.csv_bytes([headers, bf.example_row()]))
    first = bulk._column_letter(position("pcf.declaredUnitOfMeasurement"))
    second = bulk._column_letter(len(COLUMNS))
    assert errors == [
        RowError(
            1,
            "Declared unit",
            f"duplicated column: columns {first} and {second} are both Declared unit; keep one",
        )
    ]


def test_semicolon_separated_csv_is_explained():
    data = bf.csv_bytes([bf.headers(), bf.example_row()], delimiter=";")
    errors = sheet_error(data)
    assert errors[0].row == 1
    assert "separated by ';'" in errors[0].message and "CSV UTF-8" in errors[0].message


# --------------------------------------------------------------------------- files


def test_csv_not_utf8_says_so_and_how_to_fix_it():
    data = bf.csv_bytes(
        [bf.headers("en"), bf.example_row(productNameCompany="碳酸锂")], encoding="gbk"
    )
    errors = sheet_error(data)
    assert len(errors) == 1
    assert errors[0].row == 2 and errors[0].column == ""
    assert "not UTF-8" in errors[0].message
    assert "GBK" in errors[0].message
    assert "Save As" in errors[0].message and "CSV UTF-8" in errors[0].message


def test_latin1_csv_is_refused_too():
    data = bf.csv_bytes(
        [bf.headers("en"), bf.example_row(comment="façade", productDescription="Li2CO3")],
        encoding="latin-1",
    )
    (error,) = sheet_error(data)
    assert "not UTF-8" in error.message and "CSV UTF-8" in error.message


def test_utf16_csv_is_refused():
    data = bf.csv_bytes([bf.headers(), bf.example_row()], encoding="utf-16")
    (error,) = sheet_error(data)
    assert "UTF-16" in error.message and "CSV UTF-8" in error.message


def test_csv_without_bom_is_fine():
    rows, errors = parse(bf.csv_bytes([bf.headers(), bf.example_row()], encoding="utf-8"))
    assert errors == [] and len(rows) == 1


def test_malformed_csv_quoting():
    text = "\ufeff" + ",".join(bf.headers()) + '\r\n"urn:x:y"oops,a\r\n'
    (error,) = sheet_error(text.encode())
    assert error.row == 2 and "malformed" in error.message


def test_csv_with_nul_bytes():
    (error,) = sheet_error(b"a,b\x00,c\r\n")
    assert "NUL" in error.message


def test_xlsx_named_csv():
    (error,) = sheet_error(template_xlsx(), "upload.csv")
    assert "Excel workbook with a .csv name" in error.message


@pytest.mark.parametrize(
    "name,words",
    [
        ("footprints.xlsm", "macro-enabled"),
        ("footprints.XLSM", "macro-enabled"),
        ("footprints.xls", "old Excel format"),
        ("footprints.xlsb", "binary workbooks"),
        ("footprints.ods", ".ods files are not accepted"),
        ("footprints.txt", ".txt files are not accepted"),
        ("footprints.exe", ".exe files are not accepted"),
        ("footprints", "no extension"),
    ],
)
def test_other_file_types_are_refused(name, words):
    (error,) = sheet_error(template_xlsx(), name)
    assert error.row == 0 and error.column == ""
    assert words in error.message and ".xlsx" in error.message and "CSV UTF-8" in error.message


def test_xlsx_that_is_not_a_zip():
    (error,) = sheet_error(b"Product IDs,Product name\r\n", "upload.xlsx")
    assert "not a valid .xlsx workbook" in error.message


def test_xls_or_encrypted_workbook():
    (error,) = sheet_error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "upload.xlsx")
    assert ".xls" in error.message and "password" in error.message


def test_truncated_xlsx():
    data = template_xlsx()
    (error,) = sheet_error(data[: len(data) // 2], "upload.xlsx")
    assert "not a valid .xlsx workbook" in error.message


def test_corrupt_sheet_xml():
    source = zipfile.ZipFile(io.BytesIO(template_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(info.filename, content)
    (error,) = sheet_error(out.getvalue(), "upload.xlsx")
    assert "damaged" in error.message and "save it again" in error.message


def test_zip_that_is_not_a_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    (error,) = sheet_error(out.getvalue(), "upload.xlsx")
    assert "not an Excel workbook" in error.message


def test_xlsx_with_macros_inside_is_refused():
    source = zipfile.ZipFile(io.BytesIO(template_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        target.writestr("xl/vbaProject.bin", b"\0" * 64)
    (error,) = sheet_error(out.getvalue(), "upload.xlsx")
    assert "macros" in error.message


def test_zip_bomb_guard():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in zipfile.ZipFile(io.BytesIO(template_xlsx())).infolist():
            archive.writestr(info.filename, b"")
        archive.writestr("xl/padding.bin", b"\0" * (17 * 1024 * 1024))
    (error,) = sheet_error(out.getvalue(), "upload.xlsx", max_rows=10)
    assert "unpacks to far more data" in error.message


def test_data_sheet_found_by_name_or_first_sheet():
    rows_ = [bf.headers(), bf.example_row()]
    named = bf.xlsx_bytes(rows_, title="Footprints", sheets_before=["Notes", "Other"])
    rows, errors = parse(named, "a.xlsx")
    assert errors == [] and len(rows) == 1
    first = bf.xlsx_bytes(rows_, title="Sheet1")
    rows, errors = parse(first, "a.xlsx")
    assert errors == [] and len(rows) == 1


def test_empty_file_and_header_only():
    (error,) = sheet_error(b"")
    assert "the file is empty" in error.message
    (error,) = sheet_error(bf.csv_bytes([bf.headers()]))
    assert "no footprint rows" in error.message
    (error,) = sheet_error(bf.xlsx_bytes([bf.headers()]), "a.xlsx")
    assert "no footprint rows" in error.message


# --------------------------------------------------------------------------- rows


def test_empty_rows_are_skipped_and_row_numbers_kept():
    blank = [""] * len(COLUMNS)
    spaces = ["  "] * 3
    data = bf.csv_bytes(
        [
            bf.headers(),
            bf.example_row(),
            [],
            blank,
            spaces,
            bf.example_row(pcf__declaredUnitOfMeasurement="kg"),
        ]
    )
    rows, errors = parse(data)
    assert [r.row for r in rows] == [2]
    assert [(e.row, e.column) for e in errors] == [(6, "Declared unit")]

    workbook = bf.xlsx_bytes([bf.headers(), bf.example_row(), [], [], bf.example_row()])
    rows, errors = parse(workbook, "a.xlsx")
    assert errors == [] and [r.row for r in rows] == [2, 5]


def test_more_than_max_rows():
    data = bf.csv_bytes([bf.headers(), *bf.many_rows(4)])
    rows, errors = parse(data, max_rows=4)
    assert len(rows) == 4 and errors == []
    (error,) = sheet_error(bf.csv_bytes([bf.headers(), *bf.many_rows(5)]), max_rows=4)
    assert error.row == 6 and "too many rows: at most 4 footprints" in error.message
    (error,) = sheet_error(bf.xlsx_bytes([bf.headers(), *bf.many_rows(5)]), "a.xlsx", max_rows=4)
    assert "at most 4" in error.message


def test_good_rows_come_back_beside_the_errors_of_bad_ones():
    data = bf.csv_bytes(
        [
            bf.headers(),
            bf.example_row(),
            bf.example_row(
                pcf__pcfExcludingBiogenicUptake="12,5", pcf__referencePeriodEnd="31/12/2025"
            ),
            bf.example_row(),
        ]
    )
    rows, errors = parse(data)
    assert [r.row for r in rows] == [2, 4]
    assert [(e.row, e.column) for e in errors] == [
        (3, "Reference period end"),
        (3, "PCF excluding biogenic uptake"),
    ]


def test_required_value_missing():
    errors = cell_errors(one_row_csv(pcf__fossilGhgEmissions="", productIds=" ; "))
    assert errors == [
        RowError(2, "Product IDs", "required value is missing"),
        RowError(2, "Fossil GHG emissions", "required value is missing"),
    ]


def test_value_in_a_column_without_header():
    data = bf.csv_bytes([[*bf.headers(), ""], [*bf.example_row(), "stray"]])
    error = only_error(data)
    assert error == RowError(
        2, "", f"column {bulk._column_letter(len(COLUMNS))} has a value but no header"
    )
    data = bf.csv_bytes([bf.headers(), [*bf.example_row(), "", "beyond"]])
    error = only_error(data)
    assert "has a value but no header" in error.message


def test_short_rows_mean_empty_cells():
    keep = [c for c in COLUMNS if c.required] + [bf.column("comment")]
    row = [EXAMPLE_ROW[c.key] for c in keep][:-1]  # no trailing comment cell at all
    rows, errors = parse(bf.csv_bytes([bf.headers("en", keep), row]))
    assert errors == [] and "comment" not in rows[0].document


def test_duplicate_ids_in_one_upload():
    given = "0b5e3c57-6f2c-4a55-9d1e-3a0c2f6b7d10"
    data = bf.csv_bytes([bf.headers(), bf.example_row(id=given), bf.example_row(id=given.upper())])
    rows, errors = parse(data)
    assert [r.row for r in rows] == [2]
    assert errors == [RowError(3, "PCF id", "the same PCF id as row 2")]


def test_ids_blank_become_new_uuids_and_given_ids_are_kept():
    given = "0b5e3c57-6f2c-4a55-9d1e-3a0c2f6b7d10"
    data = bf.csv_bytes(
        [bf.headers(), bf.example_row(), bf.example_row(), bf.example_row(id=f" {given} ")]
    )
    rows, _ = parse(data)
    first, second, third = (r.document["id"] for r in rows)
    assert first != second
    assert uuid.UUID(first).version == 4 and uuid.UUID(second).version == 4
    assert third == given


def test_company_and_created_come_from_the_arguments():
    data = one_row_csv()
    rows, _ = parse(data, now=datetime(2026, 2, 3, 12, 0, 0, 5))  # naive: taken as UTC
    assert rows[0].document["created"] == "2026-02-03T12:00:00Z"
    shanghai = timezone(timedelta(hours=8))
    rows, _ = parse(data, now=datetime(2026, 2, 3, 12, 0, tzinfo=shanghai))
    assert rows[0].document["created"] == "2026-02-03T04:00:00Z"
    assert rows[0].document["companyIds"] == COMPANY_IDS
    assert rows[0].document["companyIds"] is not COMPANY_IDS


def test_empty_optional_cells_are_left_out():
    rows, _ = parse(
        one_row_csv(
            comment="",
            pcf__dqi__temporalDQR="",
            pcf__dqi__geographicalDQR="",
            pcf__dqi__technologicalDQR="",
        )
    )
    document = rows[0].document
    assert "comment" not in document and "dqi" not in document["pcf"]
    assert "geographyCountry" not in document["pcf"]
    assert "productOrSectorSpecificRules" not in document["pcf"]


# --------------------------------------------------------------------------- cells


@pytest.mark.parametrize(
    "typed,kept",
    [("12.5", "12.5"), (" 0.000120 ", "0.000120"), ("-3", "-3"), ("+7.10", "+7.10"), ("0", "0")],
)
def test_decimals_are_kept_as_typed(typed, kept):
    rows, errors = parse(one_row_csv(pcf__pcfIncludingBiogenicUptake=typed))
    assert errors == []
    assert rows[0].document["pcf"]["pcfIncludingBiogenicUptake"] == kept


@pytest.mark.parametrize(
    "typed,words",
    [
        ("12,5", "decimal commas and thousands separators are not accepted"),
        ("1,234.5", "decimal commas and thousands separators are not accepted"),
        ("1e-3", "scientific notation is not accepted"),
        ("12.9%", "without the % sign"),
        (".5", "a digit before the decimal point"),
        ("5.", "digits after the decimal point"),
        ("\uff11\uff12.\uff15", "ordinary digits 0-9"),  # full-width digits
        ("9.7 kg", "no units or spaces"),
        ("NaN", "no units or spaces"),
        ("=A1*2", "formulas are not accepted, paste values"),
    ],
)
def test_bad_decimal_text(typed, words):
    error = only_error(one_row_csv(pcf__pcfExcludingBiogenicUptake=typed))
    assert error.row == 2 and error.column == "PCF excluding biogenic uptake"
    # A formula is refused as a formula, before any decimal parsing.
    if not typed.startswith("="):
        assert "is not a decimal number" in error.message
    assert words in error.message
    assert repr(typed) in error.message


@pytest.mark.parametrize(
    "typed,stored",
    [
        ("2025-01-01", "2025-01-01T00:00:00Z"),
        ("2025/1/1", "2025-01-01T00:00:00Z"),
        ("2025.01.01", "2025-01-01T00:00:00Z"),
        ("2025年1月1日", "2025-01-01T00:00:00Z"),
        ("2025/1/1 0:00", "2025-01-01T00:00:00Z"),
        ("2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
        ("2025-01-01t10:30:00z", "2025-01-01T10:30:00Z"),
        ("2025-01-01T08:00:00+08:00", "2025-01-01T00:00:00Z"),
        ("2025-01-01 08:00+0800", "2025-01-01T00:00:00Z"),
        ("2025-01-01T00:00:00.250Z", "2025-01-01T00:00:00.25Z"),
    ],
)
def test_dates(typed, stored):
    rows, errors = parse(one_row_csv(pcf__referencePeriodStart=typed))
    assert errors == []
    assert rows[0].document["pcf"]["referencePeriodStart"] == stored


@pytest.mark.parametrize(
    "typed,words",
    [
        ("01/02/2025", "day-first or month-first dates are not accepted"),
        ("2025-13-01", "is not a real date"),
        ("2025-02-30", "is not a real date"),
        ("2025-01-01T10:00:00", "has a time but no time zone"),
        ("2025-01-01T10:00:00+25:00", "impossible time zone offset"),
        ("next year", "is not a date"),
    ],
)
def test_bad_dates(typed, words):
    error = only_error(one_row_csv(pcf__referencePeriodStart=typed))
    assert error.row == 2 and error.column == "Reference period start"
    assert words in error.message


def test_unknown_unit_with_a_hint():
    error = only_error(one_row_csv(pcf__declaredUnitOfMeasurement="kg"))
    assert error.column == "Declared unit"
    assert error.message.startswith("unknown unit 'kg'; use one of: liter, kilogram,")
    assert "(for kg write kilogram)" in error.message
    error = only_error(one_row_csv(pcf__declaredUnitOfMeasurement="barrel"))
    assert error.message.startswith("unknown unit 'barrel'") and "(for" not in error.message


def test_choices_ignore_case_and_spacing():
    rows, errors = parse(
        one_row_csv(
            pcf__declaredUnitOfMeasurement="  Kilowatt   HOUR ",
            pcf__geographyCountrySubdivision="",
            pcf__geographyRegionOrSubregion="eastern asia",
            pcf__ccuCalculationApproach="cut-off",
        )
    )
    assert errors == []
    pcf = rows[0].document["pcf"]
    assert pcf["declaredUnitOfMeasurement"] == "kilowatt hour"
    assert pcf["geographyRegionOrSubregion"] == "Eastern Asia"
    assert pcf["ccuCalculationApproach"] == "Cut-off"


def test_unknown_choice():
    error = only_error(one_row_csv(pcf__geographyRegionOrSubregion="East Asia"))
    assert error.column == "Region or subregion"
    assert "'East Asia' is not one of: Africa, Americas" in error.message


@pytest.mark.parametrize(
    "typed,value", [("true", True), ("FALSE", False), ("yes", True), ("否", False), ("是", True)]
)
def test_yes_no_columns(typed, value):
    rows, errors = parse(one_row_csv(pcf__ccsTechnologicalCO2CaptureIncluded=typed))
    assert errors == []
    assert rows[0].document["pcf"]["ccsTechnologicalCO2CaptureIncluded"] is value


def test_yes_no_column_refuses_other_words():
    error = only_error(one_row_csv(pcf__packagingEmissionsIncluded="maybe"))
    assert error == RowError(2, "Packaging emissions included", "'maybe' is not true or false")


def test_lists_split_on_semicolons():
    rows, errors = parse(
        one_row_csv(
            pcf__ipccCharacterizationFactors=" AR5 ;AR6; ",
            productIds="urn:gtin:06901234567892\uff1burn:pact:x.example:supplier-id:1",
            pcf__crossSectoralStandards="ISO14067;;NEW-STANDARD-2030",
        )
    )
    assert errors == []
    document = rows[0].document
    assert document["pcf"]["ipccCharacterizationFactors"] == ["AR5", "AR6"]
    assert document["productIds"] == ["urn:gtin:06901234567892", "urn:pact:x.example:supplier-id:1"]
    assert document["pcf"]["crossSectoralStandards"] == ["ISO14067", "NEW-STANDARD-2030"]
    assert validator()(document) == []  # unknown standards are accepted


def test_secondary_emission_factor_sources():
    rows, errors = parse(
        one_row_csv(pcf__secondaryEmissionFactorSources="ecoinvent 3.10; Sphera MLC 2024.1")
    )
    assert errors == []
    assert rows[0].document["pcf"]["secondaryEmissionFactorSources"] == [
        {"name": "ecoinvent", "version": "3.10"},
        {"name": "Sphera MLC", "version": "2024.1"},
    ]
    error = only_error(one_row_csv(pcf__secondaryEmissionFactorSources="ecoinvent"))
    assert error.column == "Secondary emission factor sources"
    assert "name, a space and its version" in error.message


def test_product_or_sector_rules():
    rows, errors = parse(
        one_row_csv(
            pcf__productOrSectorSpecificRules__0__operator="other",
            pcf__productOrSectorSpecificRules__0__ruleNames="Battery PCR v1; Annex B",
            pcf__productOrSectorSpecificRules__0__otherOperatorName="CBMA",
        )
    )
    assert errors == []
    assert rows[0].document["pcf"]["productOrSectorSpecificRules"] == [
        {
            "operator": "Other",
            "ruleNames": ["Battery PCR v1", "Annex B"],
            "otherOperatorName": "CBMA",
        }
    ]
    assert validator()(rows[0].document) == []


def test_text_is_trimmed_but_inner_lines_kept():
    rows, _ = parse(one_row_csv(comment="  line one\nline two  "))
    assert rows[0].document["comment"] == "line one\nline two"
    assert rows[1:] == []


def test_all_cell_errors_of_a_row_are_reported():
    errors = cell_errors(
        one_row_csv(
            pcf__declaredUnitAmount="1,0",
            pcf__referencePeriodStart="1.1.2025",
            pcf__declaredUnitOfMeasurement="kg",
            productNameCompany="",
        )
    )
    assert [e.column for e in errors] == [
        "Declared unit",
        "Declared unit amount",
        "Reference period start",
        "Product name",
    ]


# --------------------------------------------------------------------------- XLSX cells


def test_xlsx_formulas_are_refused():
    row = bf.example_row(
        pcf__pcfExcludingBiogenicUptake="=9.62+0.05+0.03", productNameCompany="=A1"
    )
    errors = cell_errors(one_row_xlsx(row), "a.xlsx")
    assert [(e.row, e.column) for e in errors] == [
        (2, "Product name"),
        (2, "PCF excluding biogenic uptake"),
    ]
    for error in errors:
        assert "formulas are not accepted, paste values" in error.message
    assert "=9.62+0.05+0.03" in errors[1].message


@pytest.mark.parametrize(
    "number,text",
    [
        (5, "5"),
        (0.1, "0.1"),
        (0.1 + 0.2, "0.3"),  # what Excel shows (15 significant digits)
        (1e-05, "0.00001"),
        (12.5, "12.5"),
        (-0.25, "-0.25"),
        (123456789012.5, "123456789012.5"),
        (1e20, "100000000000000000000"),
        (2 / 3, "0.666666666666667"),
        (-0.0, "0"),
    ],
)
def test_xlsx_number_cells_become_decimal_text(number, text):
    row = bf.example_row(pcf__pcfIncludingBiogenicUptake=number)
    rows, errors = parse(one_row_xlsx(row), "a.xlsx")
    assert errors == []
    assert rows[0].document["pcf"]["pcfIncludingBiogenicUptake"] == text


def test_xlsx_percent_formatted_cells_are_refused():
    row = bf.example_row(pcf__primaryDataShare=0.563)
    where = (2, position("pcf.primaryDataShare") + 1)
    error = only_error(one_row_xlsx(row, formats={where: "0.0%"}), "a.xlsx")
    assert error.column == "Primary data share"
    assert "formatted as a percentage (it shows 56.3% but holds 0.563)" in error.message


def test_xlsx_numbers_in_text_and_list_columns():
    row = bf.example_row(productNameCompany=995, productDescription=9.5, comment=True)
    rows, errors = parse(one_row_xlsx(row), "a.xlsx")
    assert errors == []
    document = rows[0].document
    assert document["productNameCompany"] == "995"
    assert document["productDescription"] == "9.5"
    assert document["comment"] == "TRUE"


def test_xlsx_dates():
    row = bf.example_row(
        pcf__referencePeriodStart=datetime(2025, 1, 1),
        pcf__referencePeriodEnd=date(2026, 1, 1),
        validityPeriodEnd=datetime(2028, 12, 31, 18, 30),
    )
    rows, errors = parse(one_row_xlsx(row), "a.xlsx")
    assert errors == []
    document = rows[0].document
    assert document["pcf"]["referencePeriodStart"] == "2025-01-01T00:00:00Z"
    assert document["pcf"]["referencePeriodEnd"] == "2026-01-01T00:00:00Z"
    assert document["validityPeriodEnd"] == "2028-12-31T18:30:00Z"


def test_xlsx_date_serial_numbers_and_dates_in_number_columns():
    row = bf.example_row(
        pcf__referencePeriodStart=45658, pcf__fossilGhgEmissions=datetime(2025, 1, 1)
    )
    errors = cell_errors(one_row_xlsx(row), "a.xlsx")
    assert [(e.column) for e in errors] == ["Reference period start", "Fossil GHG emissions"]
    assert "45658 looks like an Excel date serial number" in errors[0].message
    assert "Excel shows a date or time here, not a decimal number" in errors[1].message


def test_xlsx_boolean_cells():
    row = bf.example_row(pcf__packagingEmissionsIncluded=False, pcf__packagingGhgEmissions="")
    rows, errors = parse(one_row_xlsx(row), "a.xlsx")
    assert errors == []
    assert rows[0].document["pcf"]["packagingEmissionsIncluded"] is False
    error = only_error(one_row_xlsx(bf.example_row(pcf__fossilGhgEmissions=True)), "a.xlsx")
    assert "found TRUE/FALSE" in error.message


def test_xlsx_error_values():
    error = only_error(one_row_xlsx(bf.example_row(pcf__fossilGhgEmissions="#N/A")), "a.xlsx")
    assert error.column == "Fossil GHG emissions"
    assert "Excel error #N/A" in error.message


def test_xlsx_text_cells_date_looking_text_is_parsed():
    rows, errors = parse(
        one_row_xlsx(bf.example_row(pcf__referencePeriodStart="2025/1/1")), "a.xlsx"
    )
    assert errors == []
    assert rows[0].document["pcf"]["referencePeriodStart"] == "2025-01-01T00:00:00Z"


# --------------------------------------------------------------------------- pointers


@pytest.mark.parametrize("column", COLUMNS, ids=lambda c: c.key)
def test_column_for_pointer_for_every_column(column):
    pointer = "/" + column.key.replace(".", "/")
    assert column_for_pointer(pointer) == column.header_en
    if column.kind == "list":
        assert column_for_pointer(pointer + "/3") == column.header_en


@pytest.mark.parametrize(
    "pointer,header",
    [
        ("/pcf/secondaryEmissionFactorSources/1/version", "Secondary emission factor sources"),
        ("/pcf/productOrSectorSpecificRules/0/ruleNames/2", "Product or sector rule names"),
        ("/pcf/productOrSectorSpecificRules/1/operator", ""),
        ("/pcf/productOrSectorSpecificRules/0", ""),
        ("/pcf/dqi", ""),
        ("/pcf", ""),
        ("", ""),
        ("/companyName", ""),
        ("/companyIds/0", ""),
        ("/created", ""),
        ("/specVersion", ""),
        ("/pcf/verification/coverage", ""),
        ("pcf/geographyCountry", ""),
        ("/pcf/geographyCountry", "Country"),
    ],
)
def test_column_for_pointer_edge_cases(pointer, header):
    assert column_for_pointer(pointer) == header


def test_validator_problems_map_back_to_columns():
    rows, errors = parse(
        one_row_csv(
            pcf__geographyCountrySubdivision="",
            pcf__geographyCountry="XX",
            pcf__fossilGhgEmissions="-1",
            productIds="not-a-urn",
            id="not-a-uuid",
        )
    )
    assert errors == []
    problems = validator()(rows[0].document)
    columns = {column_for_pointer(p.pointer) for p in problems}
    assert {"Country", "Fossil GHG emissions", "Product IDs", "PCF id"} <= columns


# --------------------------------------------------------------------------- error report


def test_error_report_csv():
    errors = [
        RowError(3, "Declared unit", "unknown unit 'kg'"),
        RowError(1, "", "unknown column header '=HYPERLINK(\"x\")' in column C"),
        RowError(0, "", "-oops"),
    ]
    data = error_report_csv(errors)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Row / 行", "Column / 列", "Message / 说明"]
    assert rows[1] == ["3", "Declared unit", "unknown unit 'kg'"]
    assert rows[3] == ["0", "", "'-oops"]
    assert str(errors[0]) == "row 3, Declared unit: unknown unit 'kg'"
    assert str(errors[2]) == "file: -oops"


# --------------------------------------------------------------------------- volume


@pytest.mark.parametrize(
    "kind",
    ["csv", "xlsx-openpyxl", "xlsx-excel"],
)
def test_ten_thousand_rows(kind, capsys):
    count = 10_000
    if kind == "csv":
        data, name = bf.big_csv(count), "big.csv"
    elif kind == "xlsx-openpyxl":
        data, name = bf.big_xlsx(count), "big.xlsx"
    else:
        data, name = bf.with_shared_strings(bf.big_xlsx(count)), "big.xlsx"
    started = time.perf_counter()
    rows, errors = parse(data, name, max_rows=count)
    elapsed = time.perf_counter() - started
    assert errors == []
    assert len(rows) == count
    assert rows[-1].row == count + 1
    assert rows[-1].document["productIds"] == [
        f"urn:pact:supplier.example:supplier-id:LC-{count - 1:05d}"
    ]
    assert len({r.document["id"] for r in rows}) == count
    with capsys.disabled():
        print(f"\n  parse {count} rows, {kind} ({len(data) / 1e6:.1f} MB): {elapsed:.2f} s")


def test_uuid_pattern_of_generated_ids():
    rows, _ = parse(one_row_csv())
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        rows[0].document["id"],
    )


# --------------------------------------------------------------------------- robustness

_TEMPLATE_XLSX = template_xlsx()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), name=st.sampled_from(["a.csv", "a.xlsx"]))
def test_arbitrary_bytes_never_raise_anything_but_sheet_error(data, name):
    try:
        parse(data, name)
    except SheetError as exc:
        assert exc.errors


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.text(max_size=30), min_size=1, max_size=len(COLUMNS)))
def test_arbitrary_cells_never_raise_anything_but_sheet_error(cells):
    try:
        parse(bf.csv_bytes([bf.headers(), cells]))
    except SheetError as exc:
        assert exc.errors


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.integers(0, len(_TEMPLATE_XLSX) - 1), byte=st.integers(0, 255))
def test_damaged_workbooks_never_raise_anything_but_sheet_error(at, byte):
    data = bytearray(_TEMPLATE_XLSX)
    data[at] = byte
    try:
        parse(bytes(data), "a.xlsx")
    except SheetError as exc:
        assert exc.errors
