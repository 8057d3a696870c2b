# Chinese texts use full-width punctuation on purpose.
# ruff: noqa: RUF001, RUF002
"""Bulk upload spreadsheets: the CSV / XLSX template and rows → PACT v3 ProductFootprints.

Pure code (no Django, no database): the portal, the API and the Celery job call it, then
validate every document with :func:`exchange.pact.validation.validate_product_footprint`,
sign it and store the lot.

One row is one product carbon footprint. Row 1 holds the headers; a header may be the
English name, the Chinese name, both as ``"English / 中文"`` (the template's form) or the
PACT field path (``pcf.declaredUnitOfMeasurement``), in any letter case. Only the required
columns must be present; unused optional columns may be deleted.

Cell rules (the same for CSV and XLSX):

* **text**: trimmed. Empty optional cells are left out of the document.
* **decimal**: kept as the exact text typed (after trimming), which must look like PACT's
  decimal: digits, an optional sign and an optional ``.fraction``. A decimal comma
  (``12,5``), thousands separators, exponents, ``%`` signs and units are refused with a
  message rather than guessed at. Sign and range rules are the validator's job.
* **datetime**: ``YYYY-MM-DD`` (also ``YYYY/M/D``, ``YYYY.M.D`` and ``2025年1月1日``, all
  year first so never ambiguous) meaning midnight UTC, or a date-time with a zone (``Z``
  or ``±hh:mm``), ``T`` or a space between date and time. Written to the document as UTC
  with ``Z``. A date-time without a zone is refused unless it is midnight (how Excel shows
  a plain date when saving a CSV).
* **list**: items separated by ``;`` (the full-width ``；`` too), trimmed, empty items
  dropped.
* **choice**: one of the column's ``choices``, letter case ignored; the two yes/no
  columns also take ``yes``/``no``/``是``/``否`` and become JSON booleans.

Numbers in XLSX cells (a cell formatted as General or Number) arrive as binary floats;
see :func:`_number_text` for how they become decimal text.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import unicodedata
import uuid
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from exchange.pact.fields import (
    CCU_CALCULATION_APPROACHES,
    DECLARED_UNITS,
    PRODUCT_OR_SECTOR_RULE_OPERATORS,
    REGIONS_OR_SUBREGIONS,
    SPEC_VERSION,
)

__all__ = [
    "COLUMNS",
    "EXAMPLE_ROW",
    "SPEC_VERSION",
    "Column",
    "ParsedRow",
    "RowError",
    "SheetError",
    "column_for_pointer",
    "error_report_csv",
    "parse_upload",
    "template_csv",
    "template_xlsx",
]

#: ``specVersion`` written into every document built from a sheet (the same as the form).

#: Name of the data sheet in the XLSX template (parsing falls back to the first sheet).
DATA_SHEET = "Footprints"
#: Excel forbids "/" in sheet names, so the help sheet uses a dash.
HELP_SHEET = "Help - 说明"
#: Hidden sheet holding the drop-down lists of the choice columns.
LISTS_SHEET = "Lists"


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class Column:
    """One spreadsheet column and the PACT field it fills."""

    key: str  # dotted path in the document, e.g. "pcf.declaredUnitOfMeasurement"
    header_en: str
    header_zh: str
    help_en: str  # one line: meaning, unit, format
    help_zh: str
    required: bool
    kind: str  # "text" | "decimal" | "datetime" | "list" | "choice"
    choices: tuple[str, ...] = ()  # allowed values of a "choice" column, as written in PACT

    @property
    def header(self) -> str:
        """The template's header: ``"English / 中文"``."""
        return f"{self.header_en} / {self.header_zh}"


@dataclass(frozen=True)
class RowError:
    """A problem with a cell, a row or the file.

    ``row`` is the row number the user sees (the header is row 1; 0 when the problem is the
    file as a whole); ``column`` is the column's ``header_en``, or "" when the problem is
    not about one known column.
    """

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ParsedRow:
    row: int
    document: dict[str, Any]  # a complete PACT v3 ProductFootprint (not yet validated)


class SheetError(ValueError):
    """The file as a whole is unusable; ``errors`` says why (row 0 or 1, usually)."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors: list[RowError] = list(errors)
        super().__init__("; ".join(str(error) for error in self.errors))


# --------------------------------------------------------------------------- the columns

# The PACT code lists come from the validator, so the sheet can never offer a value
# the validator refuses.
RULE_OPERATORS = PRODUCT_OR_SECTOR_RULE_OPERATORS
CCU_APPROACHES = CCU_CALCULATION_APPROACHES
BOOLEAN_CHOICES: tuple[str, ...] = ("true", "false")

_KG_CO2E = "kg CO2e per declared unit"
_KG_CO2E_ZH = "千克CO2当量/声明单位"
_KG_C = "kg C per declared unit"
_KG_C_ZH = "千克碳/声明单位"
_DATE_EN = "date YYYY-MM-DD (UTC) or date-time with Z / offset"
_DATE_ZH = "日期 YYYY-MM-DD（UTC），或带 Z/时区 的日期时间"
_GEO_EN = "fill at most one of region, country, subdivision (none = global)"
_GEO_ZH = "地区、国家、行政区划三者至多填一项（都不填表示全球）"


def _c(
    key: str,
    en: str,
    zh: str,
    help_en: str,
    help_zh: str,
    kind: str = "text",
    *,
    required: bool = False,
    choices: tuple[str, ...] = (),
) -> Column:
    return Column(key, en, zh, help_en, help_zh, required, kind, choices)


# fmt: off
COLUMNS: tuple[Column, ...] = (
    # ---- the product and the document
    _c(
        "id", "PCF id", "碳足迹编号",
        "UUID of this footprint; leave blank and the platform makes a new one",
        "本碳足迹的 UUID；留空则由平台生成",
    ),
    _c(
        "productIds", "Product IDs", "产品标识",
        "URNs naming the product, separated by ';', "
        "e.g. urn:pact:yourcompany.example:supplier-id:123",
        "产品的 URN 标识，多个用分号 ; 分隔，例如 urn:pact:yourcompany.example:supplier-id:123",
        "list", required=True,
    ),
    _c(
        "productNameCompany", "Product name", "产品名称",
        "The product's trade name, as your customers know it",
        "产品的商品名称（客户熟悉的名称）",
        required=True,
    ),
    _c(
        "productDescription", "Product description", "产品描述",
        "What the product is: technology, grade, packaging, feedstock, dimensions",
        "产品说明：生产工艺、规格等级、包装、原料、尺寸等",
        required=True,
    ),
    _c(
        "productClassifications", "Product classifications", "产品分类",
        "Classification URNs separated by ';', e.g. urn:pact:cas.org:substance-number:554-13-2",
        "产品分类 URN，多个用分号分隔，例如 urn:pact:cas.org:substance-number:554-13-2",
        "list",
    ),
    _c(
        "precedingPfIds", "Preceding PCF ids", "前序碳足迹编号",
        "ids (UUIDs) of your earlier footprints this one replaces, separated by ';'; "
        "they become Deprecated",
        "本碳足迹所替代的早期碳足迹编号（UUID），多个用分号分隔；被替代者将标记为已弃用",
        "list",
    ),
    _c(
        "validityPeriodStart", "Validity start", "有效期开始",
        f"When the footprint becomes valid for use, {_DATE_EN}; blank = default",
        f"碳足迹开始有效的时间，{_DATE_ZH}；留空则按默认规则",
        "datetime",
    ),
    _c(
        "validityPeriodEnd", "Validity end", "有效期结束",
        f"When the footprint stops being valid, {_DATE_EN}; "
        "blank = 3 years after the reference period end",
        f"碳足迹失效的时间，{_DATE_ZH}；留空则为参考期结束后 3 年",
        "datetime",
    ),
    _c(
        "comment", "Comment", "备注",
        "Notes on the calculation: changes since the previous version, tools, method choices",
        "关于计算的说明：与上一版本相比的变化、所用工具、方法选择等",
    ),
    # ---- declared unit and scope
    _c(
        "pcf.declaredUnitOfMeasurement", "Declared unit", "声明单位",
        "Unit the footprint is given for: " + ", ".join(DECLARED_UNITS),
        "碳足迹所对应的单位：liter 升、kilogram 千克、cubic meter 立方米、kilowatt hour 千瓦时、"
        "megajoule 兆焦、ton kilometer 吨公里、square meter 平方米、piece 件、hour 小时、"
        "megabit second 兆比特秒",
        "choice", required=True, choices=DECLARED_UNITS,
    ),
    _c(
        "pcf.declaredUnitAmount", "Declared unit amount", "声明单位数量",
        "How many declared units the footprint is for (usually 1), decimal > 0",
        "碳足迹对应的声明单位数量（通常为 1），小数，> 0",
        "decimal", required=True,
    ),
    _c(
        "pcf.productMassPerDeclaredUnit", "Product mass per declared unit", "每声明单位产品质量",
        "kg of product (without packaging) in the declared unit amount, decimal ≥ 0; "
        "0 for energy, transport and services",
        "声明单位数量所含产品的质量（千克，不含包装），小数，≥ 0；能源、运输、服务类填 0",
        "decimal", required=True,
    ),
    _c(
        "pcf.referencePeriodStart", "Reference period start", "参考期开始",
        f"Start of the period your activity data covers, {_DATE_EN}",
        f"活动数据所覆盖期间的开始，{_DATE_ZH}",
        "datetime", required=True,
    ),
    _c(
        "pcf.referencePeriodEnd", "Reference period end", "参考期结束",
        f"End of that period, exclusive (2026-01-01 for the year 2025), {_DATE_EN}",
        f"该期间的结束（不含当日，2025 全年填 2026-01-01），{_DATE_ZH}",
        "datetime", required=True,
    ),
    _c(
        "pcf.geographyRegionOrSubregion", "Region or subregion", "地区或次区域",
        f"UN region or subregion, e.g. Eastern Asia; {_GEO_EN}",
        f"联合国地区或次区域，例如 Eastern Asia（东亚）；{_GEO_ZH}",
        "choice", choices=REGIONS_OR_SUBREGIONS,
    ),
    _c(
        "pcf.geographyCountry", "Country", "国家",
        f"ISO 3166-1 two-letter country code, e.g. CN; {_GEO_EN}",
        f"ISO 3166-1 两位字母国家代码，例如 CN；{_GEO_ZH}",
    ),
    _c(
        "pcf.geographyCountrySubdivision", "Country subdivision", "国家行政区划",
        f"ISO 3166-2 code, e.g. CN-JX; {_GEO_EN}",
        f"ISO 3166-2 行政区划代码，例如 CN-JX（江西）；{_GEO_ZH}",
    ),
    _c(
        "pcf.boundaryProcessesDescription", "Boundary processes description", "系统边界过程描述",
        "Processes included in each life-cycle stage, e.g. mining, refining, electricity use",
        "各生命周期阶段包含的过程，例如采矿、精炼、用电",
    ),
    # ---- the footprint
    _c(
        "pcf.pcfExcludingBiogenicUptake", "PCF excluding biogenic uptake",
        "碳足迹（不含生物源CO2吸收）",
        f"Cradle-to-gate footprint without biogenic CO2 uptake, {_KG_CO2E}, decimal",
        f"不计生物源 CO2 吸收的摇篮到大门碳足迹，{_KG_CO2E_ZH}，小数",
        "decimal", required=True,
    ),
    _c(
        "pcf.pcfIncludingBiogenicUptake", "PCF including biogenic uptake",
        "碳足迹（含生物源CO2吸收）",
        f"The same counting biogenic CO2 uptake, {_KG_CO2E}, decimal (may be negative)",
        f"计入生物源 CO2 吸收的碳足迹，{_KG_CO2E_ZH}，小数（可为负）",
        "decimal", required=True,
    ),
    _c(
        "pcf.fossilGhgEmissions", "Fossil GHG emissions", "化石源温室气体排放",
        f"Emissions from fossil sources (combustion, process, fugitive), {_KG_CO2E}, "
        "decimal ≥ 0",
        f"化石来源排放（燃烧、工艺、逸散），{_KG_CO2E_ZH}，小数，≥ 0",
        "decimal", required=True,
    ),
    _c(
        "pcf.fossilCarbonContent", "Fossil carbon content", "化石碳含量",
        f"Carbon of fossil origin contained in the product, {_KG_C}, decimal ≥ 0",
        f"产品中所含化石来源的碳，{_KG_C_ZH}，小数，≥ 0",
        "decimal", required=True,
    ),
    _c(
        "pcf.biogenicCarbonContent", "Biogenic carbon content", "生物源碳含量",
        f"Carbon of biological origin contained in the product, {_KG_C}, decimal ≥ 0",
        f"产品中所含生物来源的碳，{_KG_C_ZH}，小数，≥ 0",
        "decimal",
    ),
    _c(
        "pcf.recycledCarbonContent", "Recycled carbon content", "再生碳含量",
        f"Carbon from recycled material in the product, {_KG_C}, decimal ≥ 0",
        f"产品中来自再生材料的碳，{_KG_C_ZH}，小数，≥ 0",
        "decimal",
    ),
    _c(
        "pcf.landUseChangeGhgEmissions", "Land use change emissions", "土地利用变化排放",
        f"Emissions from land-use change (e.g. deforestation), {_KG_CO2E}, decimal ≥ 0",
        f"土地利用变化（如毁林）造成的排放，{_KG_CO2E_ZH}，小数，≥ 0",
        "decimal",
    ),
    _c(
        "pcf.landCarbonLeakage", "Land carbon leakage", "土地碳泄漏",
        f"Indirect land-use change outside the value chain, {_KG_CO2E}, decimal ≥ 0",
        f"价值链以外的间接土地利用变化，{_KG_CO2E_ZH}，小数，≥ 0",
        "decimal",
    ),
    _c(
        "pcf.landManagementFossilGhgEmissions", "Land management fossil emissions",
        "土地管理化石源排放",
        f"Fossil emissions from land management (already in fossil GHG emissions), "
        f"{_KG_CO2E}, decimal ≥ 0",
        f"土地管理产生的化石源排放（已包含在化石源温室气体排放中），{_KG_CO2E_ZH}，小数，≥ 0",
        "decimal",
    ),
    _c(
        "pcf.landManagementBiogenicCO2Emissions", "Land management biogenic CO2 emissions",
        "土地管理生物源CO2排放",
        f"Biogenic CO2 emitted by recurring land management, {_KG_CO2E}, decimal ≥ 0",
        f"经常性土地管理活动排放的生物源 CO2，{_KG_CO2E_ZH}，小数，≥ 0",
        "decimal",
    ),
    _c(
        "pcf.landManagementBiogenicCO2Removals", "Land management biogenic CO2 removals",
        "土地管理生物源CO2移除",
        f"Biogenic CO2 removed into land carbon pools, {_KG_CO2E}, decimal ≤ 0",
        f"进入土地碳库的生物源 CO2 移除量，{_KG_CO2E_ZH}，小数，≤ 0",
        "decimal",
    ),
    _c(
        "pcf.biogenicCO2Uptake", "Biogenic CO2 uptake", "生物源CO2吸收",
        f"CO2 taken up by biomass in the product at the factory gate, {_KG_CO2E}, decimal ≤ 0",
        f"出厂时产品中生物质吸收的 CO2，{_KG_CO2E_ZH}，小数，≤ 0",
        "decimal",
    ),
    _c(
        "pcf.biogenicNonCO2Emissions", "Biogenic non-CO2 emissions", "生物源非CO2排放",
        f"Biogenic CH4 and other non-CO2 emissions, {_KG_CO2E}, decimal ≥ 0",
        f"生物源甲烷等非 CO2 排放，{_KG_CO2E_ZH}，小数，≥ 0",
        "decimal",
    ),
    _c(
        "pcf.landAreaOccupation", "Land area occupation", "土地占用面积",
        "Agricultural land occupied in the year, m²·year per declared unit, decimal ≥ 0",
        "报告年度占用的农业用地，平方米·年/声明单位，小数，≥ 0",
        "decimal",
    ),
    _c(
        "pcf.aircraftGhgEmissions", "Aircraft emissions", "航空运输排放",
        f"Emissions from air transport of the product, {_KG_CO2E}, decimal ≥ 0",
        f"产品航空运输产生的排放，{_KG_CO2E_ZH}，小数，≥ 0",
        "decimal",
    ),
    # ---- packaging and logistics
    _c(
        "pcf.packagingEmissionsIncluded", "Packaging emissions included", "是否包含包装排放",
        "Whether packaging is inside the footprint: true or false",
        "碳足迹是否包含包装：true（是）或 false（否）",
        "choice", choices=BOOLEAN_CHOICES,
    ),
    _c(
        "pcf.packagingGhgEmissions", "Packaging emissions", "包装排放",
        f"Emissions of the packaging, {_KG_CO2E}, decimal ≥ 0; blank if packaging is excluded",
        f"包装产生的排放，{_KG_CO2E_ZH}，小数，≥ 0；不包含包装时留空",
        "decimal",
    ),
    _c(
        "pcf.packagingBiogenicCarbonContent", "Packaging biogenic carbon content",
        "包装生物源碳含量",
        f"Biogenic carbon in the packaging, {_KG_C}, decimal ≥ 0",
        f"包装中所含生物源碳，{_KG_C_ZH}，小数，≥ 0",
        "decimal",
    ),
    _c(
        "pcf.outboundLogisticsGhgEmissions", "Outbound logistics emissions", "出厂物流排放",
        f"Transport after the factory gate, only if you are responsible for it, {_KG_CO2E}, "
        "decimal ≥ 0",
        f"出厂后的运输排放（仅当由贵公司负责运输时填写），{_KG_CO2E_ZH}，小数，≥ 0",
        "decimal",
    ),
    # ---- carbon capture
    _c(
        "pcf.ccsTechnologicalCO2CaptureIncluded", "CCS included", "是否包含碳捕集与封存",
        "Whether carbon capture and storage happens within the boundary: true or false",
        "系统边界内是否有碳捕集与封存（CCS）：true（是）或 false（否）",
        "choice", choices=BOOLEAN_CHOICES,
    ),
    _c(
        "pcf.ccsTechnologicalCO2Capture", "CCS CO2 capture", "碳捕集与封存捕集量",
        f"CO2 captured and stored geologically, {_KG_CO2E}, decimal ≤ 0",
        f"捕集并地质封存的 CO2，{_KG_CO2E_ZH}，小数，≤ 0",
        "decimal",
    ),
    _c(
        "pcf.technologicalCO2CaptureOrigin", "Technological CO2 capture origin",
        "技术性CO2捕集来源",
        "Origin and path of the captured CO2: capture facility, storage site",
        "所捕集 CO2 的来源与路径：捕集设施、封存地点等",
    ),
    _c(
        "pcf.technologicalCO2Removals", "Technological CO2 removals", "技术性CO2移除",
        f"CO2 removed from the atmosphere or via biogenic capture, {_KG_CO2E}, decimal ≤ 0",
        f"从大气中或通过生物源捕集移除的 CO2，{_KG_CO2E_ZH}，小数，≤ 0",
        "decimal",
    ),
    _c(
        "pcf.ccuCarbonContent", "CCU carbon content", "碳捕集利用碳含量",
        f"Captured carbon used in the product (CCU), {_KG_C}, decimal ≥ 0",
        f"产品中利用的捕集碳（CCU），{_KG_C_ZH}，小数，≥ 0",
        "decimal",
    ),
    _c(
        "pcf.ccuCalculationApproach", "CCU calculation approach", "碳捕集利用计算方法",
        "How CCU was accounted: Cut-off or Credit",
        "碳捕集利用的核算方法：Cut-off（截断）或 Credit（抵扣）",
        "choice", choices=CCU_APPROACHES,
    ),
    _c(
        "pcf.ccuCreditCertification", "CCU credit certification", "碳捕集利用信用认证",
        "URL of the certification of the CCU credit (Credit approach only)",
        "碳捕集利用信用认证文件的网址（仅限 Credit 方法）",
    ),
    # ---- method
    _c(
        "pcf.ipccCharacterizationFactors", "IPCC characterization factors", "IPCC特征化因子",
        "IPCC assessment reports whose GWP values you used, separated by ';', e.g. AR6",
        "所用全球变暖潜势（GWP）的 IPCC 评估报告版本，多个用分号分隔，例如 AR6",
        "list", required=True,
    ),
    _c(
        "pcf.crossSectoralStandards", "Cross-sectoral standards", "跨行业核算标准",
        "Standards followed, separated by ';', e.g. ISO14067; GHGP-Product; PACT-3.0",
        "所遵循的标准，多个用分号分隔，例如 ISO14067; GHGP-Product; PACT-3.0",
        "list", required=True,
    ),
    _c(
        "pcf.productOrSectorSpecificRules.0.operator", "Product or sector rules operator",
        "产品或行业规则发布方",
        "Who publishes the product category rules you followed: PEF, EPD International or Other",
        "所遵循的产品类别规则的发布方：PEF、EPD International 或 Other（其他）",
        "choice", choices=RULE_OPERATORS,
    ),
    _c(
        "pcf.productOrSectorSpecificRules.0.ruleNames", "Product or sector rule names",
        "产品或行业规则名称",
        "Names of those rules (PCR, PEFCR …), separated by ';'",
        "所遵循规则（PCR、PEFCR 等）的名称，多个用分号分隔",
        "list",
    ),
    _c(
        "pcf.productOrSectorSpecificRules.0.otherOperatorName", "Other rules operator name",
        "其他规则发布方名称",
        "Name of the rules' publisher when the operator is Other, e.g. TfS",
        "发布方为 Other 时填写发布方名称，例如 TfS",
    ),
    _c(
        "pcf.exemptedEmissionsPercent", "Exempted emissions percent", "豁免排放比例",
        "Share of emissions left out as immaterial, in %, decimal (0 if none)",
        "作为非实质性而未计入的排放所占比例（%），小数（无则填 0）",
        "decimal", required=True,
    ),
    _c(
        "pcf.exemptedEmissionsDescription", "Exempted emissions description", "豁免排放说明",
        "Which emissions were left out and why",
        "未计入哪些排放及其理由",
    ),
    _c(
        "pcf.allocationRulesDescription", "Allocation rules description", "分配规则说明",
        "How emissions were allocated between co-products, and why",
        "排放在联产品之间如何分配及其理由",
    ),
    _c(
        "pcf.secondaryEmissionFactorSources", "Secondary emission factor sources",
        "次级排放因子数据库",
        "Databases used: name, a space and the version, separated by ';', e.g. ecoinvent 3.10",
        "所用数据库：名称、空格、版本号，多个用分号分隔，例如 ecoinvent 3.10",
        "list",
    ),
    _c(
        "pcf.primaryDataShare", "Primary data share", "初级数据占比",
        "Share of the footprint (excluding biogenic uptake) from primary data, in %, "
        "decimal 0-100",
        "碳足迹（不含生物源吸收）中来自初级数据的比例（%），小数，0-100",
        "decimal",
    ),
    _c(
        "pcf.dqi.technologicalDQR", "Technological DQR", "技术代表性数据质量评级",
        "Data quality rating for technological representativeness, 1 (best) to 5, decimal; "
        "give all three DQRs or none",
        "技术代表性数据质量评级，1（最好）至 5，小数；三项评级须全部填写或全部留空",
        "decimal",
    ),
    _c(
        "pcf.dqi.geographicalDQR", "Geographical DQR", "地理代表性数据质量评级",
        "Data quality rating for geographical representativeness, 1 (best) to 5, decimal",
        "地理代表性数据质量评级，1（最好）至 5，小数",
        "decimal",
    ),
    _c(
        "pcf.dqi.temporalDQR", "Temporal DQR", "时间代表性数据质量评级",
        "Data quality rating for temporal representativeness, 1 (best) to 5, decimal",
        "时间代表性数据质量评级，1（最好）至 5，小数",
        "decimal",
    ),
)
# fmt: on

#: The template's example row, by column key (a battery-grade lithium carbonate).
EXAMPLE_ROW: dict[str, str] = {
    "productIds": "urn:pact:supplier.example:supplier-id:LC-BG-995",
    "productNameCompany": "Battery-grade lithium carbonate 99.5%",
    "productDescription": "Li2CO3 ≥ 99.5%, from spodumene concentrate, 25 kg bags",
    "productClassifications": "urn:pact:cas.org:substance-number:554-13-2",
    "comment": "Electricity from the provincial grid mix; example row, replace it",
    "pcf.declaredUnitOfMeasurement": "kilogram",
    "pcf.declaredUnitAmount": "1",
    "pcf.productMassPerDeclaredUnit": "1",
    "pcf.referencePeriodStart": "2025-01-01",
    "pcf.referencePeriodEnd": "2026-01-01",
    "pcf.geographyCountrySubdivision": "CN-JX",
    "pcf.boundaryProcessesDescription": "Concentrate transport, roasting, leaching, "
    "carbonation, drying, packaging",
    "pcf.pcfExcludingBiogenicUptake": "9.7",
    "pcf.pcfIncludingBiogenicUptake": "9.7",
    "pcf.fossilGhgEmissions": "9.62",
    "pcf.fossilCarbonContent": "0",
    "pcf.biogenicCarbonContent": "0",
    "pcf.landUseChangeGhgEmissions": "0.05",
    "pcf.biogenicCO2Uptake": "0",
    "pcf.biogenicNonCO2Emissions": "0.03",
    "pcf.packagingEmissionsIncluded": "true",
    "pcf.packagingGhgEmissions": "0.04",
    "pcf.ccsTechnologicalCO2CaptureIncluded": "false",
    "pcf.ipccCharacterizationFactors": "AR6",
    "pcf.crossSectoralStandards": "ISO14067; PACT-3.0",
    "pcf.exemptedEmissionsPercent": "0.8",
    "pcf.exemptedEmissionsDescription": "Laboratory chemicals",
    "pcf.allocationRulesDescription": "Mass allocation between Li2CO3 and sodium sulphate",
    "pcf.secondaryEmissionFactorSources": "ecoinvent 3.10",
    "pcf.primaryDataShare": "56.3",
    "pcf.dqi.technologicalDQR": "1.8",
    "pcf.dqi.geographicalDQR": "2",
    "pcf.dqi.temporalDQR": "1.5",
}

KINDS: tuple[str, ...] = ("text", "decimal", "datetime", "list", "choice")
_BOOLEAN_KEYS = frozenset(c.key for c in COLUMNS if c.choices == BOOLEAN_CHOICES)
_BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
_PATHS: dict[str, tuple[str, ...]] = {c.key: tuple(c.key.split(".")) for c in COLUMNS}
_REQUIRED: tuple[Column, ...] = tuple(c for c in COLUMNS if c.required)
_TRUE = {"true", "yes", "y", "是"}
_FALSE = {"false", "no", "n", "否"}

_KIND_NAMES = {
    "text": "text / 文本",
    "decimal": "decimal / 小数",
    "datetime": "date / 日期",
    "list": "list, ';' separated / 列表（分号分隔）",
    "choice": "choice / 选项",
}


# --------------------------------------------------------------------------- header matching


def _normalise_header(text: str) -> str:
    """Case, width, spacing and a trailing required-marker do not matter in headers."""
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "")
    text = " ".join(text.split()).casefold()
    text = re.sub(r"\s*/\s*", " / ", text)
    return text.rstrip("* ").strip()


def _build_header_index() -> dict[str, Column]:
    index: dict[str, Column] = {}
    tails: dict[str, list[Column]] = {}
    for column in COLUMNS:
        for form in (column.header_en, column.header_zh, column.header, column.key):
            index[_normalise_header(form)] = column
        tails.setdefault(_normalise_header(column.key.rsplit(".", 1)[-1]), []).append(column)
    # The bare PACT field name ("declaredUnitOfMeasurement") too, when it names one column.
    for tail, columns in tails.items():
        if len(columns) == 1:
            index.setdefault(tail, columns[0])
    return index


_HEADER_INDEX = _build_header_index()


def _column_letter(index: int) -> str:
    """0-based position → spreadsheet letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# --------------------------------------------------------------------------- templates


def _example_values() -> list[str]:
    return [EXAMPLE_ROW.get(column.key, "") for column in COLUMNS]


def template_csv() -> bytes:
    """The CSV template: UTF-8 with a BOM (so Excel reads it as UTF-8), headers, one example."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.header for column in COLUMNS])
    writer.writerow(_example_values())
    return out.getvalue().encode("utf-8-sig")


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def template_xlsx() -> bytes:
    """The XLSX template.

    Sheet "Footprints": the bilingual header row (frozen; required columns in a darker
    colour; each header carries its help as a cell comment), one example row, columns
    formatted as Text so that what is typed is what is uploaded, drop-down lists on the
    choice columns. Sheet "Help - 说明": how to fill the sheet and every column's meaning,
    unit / format and whether it is required, in English and Chinese. A hidden sheet
    "Lists" holds the drop-down values.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = DATA_SHEET
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"

    required_fill = PatternFill("solid", fgColor="1F6F50")
    optional_fill = PatternFill("solid", fgColor="D7EDE2")
    header_alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[1].height = 48

    list_column = 0
    for position, (column, example) in enumerate(zip(COLUMNS, _example_values(), strict=True)):
        letter = _column_letter(position)
        cell = sheet.cell(row=1, column=position + 1, value=column.header)
        cell.font = Font(bold=True, color="FFFFFF" if column.required else "000000")
        cell.fill = required_fill if column.required else optional_fill
        cell.alignment = header_alignment
        need = "Required / 必填" if column.required else "Optional / 选填"
        comment = Comment(f"{column.help_en}\n{column.help_zh}\n{need}", "carbonx")
        comment.width, comment.height = 320, 140
        cell.comment = comment

        value_cell = sheet.cell(row=2, column=position + 1, value=example or None)
        value_cell.number_format = "@"
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(14, min(42, _display_width(column.header) // 2 + 4))
        dimension.number_format = "@"

        if column.kind == "choice":
            list_column += 1
            list_letter = _column_letter(list_column - 1)
            lists.cell(row=1, column=list_column, value=column.header_en)
            for offset, choice in enumerate(column.choices, start=2):
                lists.cell(row=offset, column=list_column, value=choice)
            last = len(column.choices) + 1
            validation = DataValidation(
                type="list",
                formula1=f"{LISTS_SHEET}!${list_letter}$2:${list_letter}${last}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Not in the list / 不在列表中",
                error="Choose a value from the list. / 请从列表中选择。",
            )
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}1048576")
    sheet.freeze_panes = "A2"

    _write_help_sheet(workbook.create_sheet(HELP_SHEET, 1), Font, Alignment)

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


_HELP_NOTES: tuple[tuple[str, str], ...] = (
    (
        "One row per product carbon footprint on the sheet 'Footprints'. Row 1 holds the "
        "headers: keep them.",
        "在“Footprints”工作表中每行填写一个产品碳足迹。第 1 行为表头，请勿修改。",
    ),
    (
        "Columns with a dark header are required. Leave unknown optional cells empty; you may "
        "delete optional columns you do not use.",
        "深色表头的列为必填。未知的选填项请留空；不用的选填列可以删除。",
    ),
    (
        "Decimals: digits with a point, e.g. 12.5 or -0.25; no decimal comma, thousands "
        "separator, % sign or unit.",
        "小数：数字加小数点，例如 12.5 或 -0.25；不要使用小数逗号、千位分隔符、% 号或单位。",
    ),
    (
        "Dates: YYYY-MM-DD (UTC), e.g. 2025-01-01, or a date-time with a zone, e.g. "
        "2025-01-01T00:00:00Z.",
        "日期：YYYY-MM-DD（UTC），例如 2025-01-01；或带时区的日期时间，例如 2025-01-01T00:00:00Z。",
    ),
    (
        "Lists: separate the items with a semicolon ';'.",
        "列表：各项之间用分号 ; 分隔。",
    ),
    (
        "No formulas: copy the cells and paste values only.",
        "不接受公式：请复制单元格后“选择性粘贴 → 数值”。",
    ),
    (
        "Upload this .xlsx, or a CSV saved as 'CSV UTF-8 (Comma delimited)'. No .xls or .xlsm.",
        "请上传本 .xlsx 文件，或另存为“CSV UTF-8（逗号分隔）”的 CSV 文件。不接受 .xls 或 .xlsm。",
    ),
    (
        "Your company's name and identifiers come from your account; each row is signed with "
        "your company's platform-held key.",
        "公司名称和标识取自您的账户；每一行都将用贵公司托管在平台上的密钥签名。",
    ),
)


def _write_help_sheet(sheet: Any, font: Any, alignment: Any) -> None:
    bold = font(bold=True)
    wrap = alignment(wrap_text=True, vertical="top")
    sheet.append(["How to fill in the bulk upload template", "批量上传模板填写说明"])
    sheet["A1"].font = sheet["B1"].font = font(bold=True, size=13)
    for english, chinese in _HELP_NOTES:
        sheet.append([english, chinese])
    sheet.append([])
    table_header = [
        "Column (English)",
        "列名（中文）",
        "Required / 必填",
        "Format / 格式",
        "Meaning, unit and format",
        "含义、单位与格式",
        "Allowed values / 可选值",
        "PACT field / PACT 字段",
    ]
    sheet.append(table_header)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = bold
    for column in COLUMNS:
        sheet.append(
            [
                column.header_en,
                column.header_zh,
                "yes / 是" if column.required else "no / 否",
                _KIND_NAMES[column.kind],
                column.help_en,
                column.help_zh,
                ", ".join(column.choices),
                column.key,
            ]
        )
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    for letter, width in zip("ABCDEFGH", (44, 40, 12, 18, 60, 50, 36, 36), strict=True):
        sheet.column_dimensions[letter].width = width


# --------------------------------------------------------------------------- raw cells


class _Formula(str):
    """An XLSX cell holding a formula (its text)."""


class _ExcelError(str):
    """An XLSX cell holding an error value such as #N/A."""


@dataclass(frozen=True)
class _Percent:
    """A number in an XLSX cell formatted as a percentage (12.9% is stored as 0.129)."""

    value: int | float


Raw = str | bool | int | float | datetime | date | time | _Percent | None


class _CellError(ValueError):
    pass


def _is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _number_text(value: int | float) -> str:
    """The decimal text of a number read from an XLSX cell.

    Excel stores numbers as binary doubles and keeps at most 15 significant digits of what
    was typed, so a float is rounded to 15 significant digits and written out in plain
    notation without trailing zeros: 0.1 → "0.1", 1e-05 → "0.00001", and a pasted result
    such as 0.30000000000000004 (shown by Excel as 0.3) → "0.3". ``repr`` would keep such
    binary noise; the 15-digit rounding gives back what the user saw and typed. Integers
    (cells without a fraction) are exact. Cells formatted as Text avoid all this: their
    text is taken as typed, which is why the template formats every column as Text.
    """
    if isinstance(value, bool):  # pragma: no cover - callers handle booleans first
        raise _CellError("expected a number, found TRUE/FALSE")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise _CellError("the cell does not hold a finite number")
    text = format(Decimal(format(value, ".15g")), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# --------------------------------------------------------------------------- cell conversion

_DECIMAL_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_EXPONENT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
_DATE_RE = re.compile(
    r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    r"(?:[Tt ](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.(?P<f>[0-9]{1,9}))?)?"
    r"\s*(?P<tz>[Zz]|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_CHINESE_DATE_RE = re.compile(r"(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日")
_UNIT_HINTS = {
    "kg": "kilogram",
    "kgs": "kilogram",
    "kilo": "kilogram",
    "kilogramme": "kilogram",
    "千克": "kilogram",
    "公斤": "kilogram",
    "l": "liter",
    "litre": "liter",
    "liters": "liter",
    "litres": "liter",
    "升": "liter",
    "m3": "cubic meter",
    "cubic metre": "cubic meter",
    "立方米": "cubic meter",
    "kwh": "kilowatt hour",
    "千瓦时": "kilowatt hour",
    "度": "kilowatt hour",
    "mj": "megajoule",
    "兆焦": "megajoule",
    "tkm": "ton kilometer",
    "t km": "ton kilometer",
    "t·km": "ton kilometer",
    "tonne kilometre": "ton kilometer",
    "吨公里": "ton kilometer",
    "m2": "square meter",
    "square metre": "square meter",
    "平方米": "square meter",
    "pc": "piece",
    "pcs": "piece",
    "pieces": "piece",
    "unit": "piece",
    "件": "piece",
    "个": "piece",
    "h": "hour",
    "hr": "hour",
    "hours": "hour",
    "小时": "hour",
    "t": "kilogram (1 t = 1000 kilogram)",
    "ton": "kilogram (1 t = 1000 kilogram)",
    "tonne": "kilogram (1 t = 1000 kilogram)",
    "吨": "kilogram (1 t = 1000 kilogram)",
}


def _text_of(raw: Raw) -> str:
    """A non-blank raw cell as text, for columns that take text."""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, int | float):
        return _number_text(raw)
    if isinstance(raw, _Percent):
        raise _CellError(
            "the cell is formatted as a percentage; format it as Text and type the value"
        )
    raise _CellError(
        "Excel turned this cell into a date or time; format the column as Text and type "
        "the value again"
    )


def _decimal(raw: Raw) -> str:
    if isinstance(raw, bool):
        raise _CellError("expected a decimal number, found TRUE/FALSE")
    if isinstance(raw, _Percent):
        shown = _number_text(raw.value * 100) if math.isfinite(raw.value) else "?"
        raise _CellError(
            f"the cell is formatted as a percentage (it shows {shown}% but holds "
            f"{_number_text(raw.value)}); format it as Text or General and type the number "
            f"itself, e.g. {shown}"
        )
    if isinstance(raw, int | float):
        return _number_text(raw)
    if not isinstance(raw, str):
        raise _CellError(
            "Excel shows a date or time here, not a decimal number; format the cell as Text "
            "and type the number"
        )
    text = raw.strip()
    if _DECIMAL_RE.fullmatch(text):
        return text
    if text.startswith("="):
        hint = "looks like a formula: formulas are not accepted, paste values"
    elif "," in text or "，" in text:
        hint = (
            "decimal commas and thousands separators are not accepted; write the number "
            "with a decimal point and no separators, e.g. 1234.5"
        )
    elif text.endswith("%"):
        hint = "write the number without the % sign (the column is already in %), e.g. 12.9"
    elif _EXPONENT_RE.fullmatch(text):
        hint = "scientific notation is not accepted; write the number out, e.g. 0.00012"
    elif re.fullmatch(r"[+-]?\.[0-9]+", text):
        hint = "write a digit before the decimal point, e.g. 0.5"
    elif re.fullmatch(r"[+-]?[0-9]+\.", text):
        hint = "write digits after the decimal point, or leave the point out"
    elif any(unicodedata.category(ch) == "Nd" and not "0" <= ch <= "9" for ch in text):
        hint = "use the ordinary digits 0-9 (not full-width or other scripts' digits)"
    else:
        hint = (
            "write digits with an optional sign and a decimal point only, e.g. 12.5 or "
            "-0.25 (no units or spaces)"
        )
    raise _CellError(f"{_short(text)} is not a decimal number: {hint}")


def _utc_text(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def _date_time(raw: Raw) -> str:
    if isinstance(raw, datetime):
        # Excel date-times carry no zone: they are read as UTC.
        return _utc_text(raw if raw.tzinfo else raw.replace(tzinfo=UTC))
    if isinstance(raw, date):
        return _utc_text(datetime(raw.year, raw.month, raw.day, tzinfo=UTC))
    if isinstance(raw, time):
        raise _CellError("the cell holds only a time of day; give a date, e.g. 2025-01-01")
    if isinstance(raw, bool | _Percent):
        raise _CellError("expected a date, e.g. 2025-01-01")
    if isinstance(raw, int | float):
        raise _CellError(
            f"{_number_text(raw)} looks like an Excel date serial number, not a date; format "
            "the cell as a date or as Text and type e.g. 2025-01-01"
        )
    text = raw.strip() if isinstance(raw, str) else ""
    match = _DATE_RE.fullmatch(text) or _CHINESE_DATE_RE.fullmatch(text)
    if match is None:
        raise _CellError(
            f"{_short(text)} is not a date: write YYYY-MM-DD, e.g. 2025-01-01, or a date-time "
            "with a zone, e.g. 2025-01-01T08:00:00Z (day-first or month-first dates are not "
            "accepted)"
        )
    parts = match.groupdict()
    hour, minute = int(parts.get("H") or 0), int(parts.get("M") or 0)
    second = int(parts.get("S") or 0)
    micro = int((parts.get("f") or "0")[:6].ljust(6, "0"))
    zone_text = parts.get("tz")
    if zone_text is None:
        if hour or minute or second or micro:
            raise _CellError(
                f"{_short(text)} has a time but no time zone: add Z for UTC or an offset, "
                "e.g. 2025-01-01T08:00:00+08:00"
            )
        zone: timezone = UTC
    elif zone_text in {"Z", "z"}:
        zone = UTC
    else:
        digits = zone_text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise _CellError(f"{_short(text)} has an impossible time zone offset")
        offset = timedelta(hours=hours, minutes=minutes)
        zone = timezone(-offset if zone_text[0] == "-" else offset)
    try:
        moment = datetime(
            int(parts["y"]),
            int(parts["m"]),
            int(parts["d"]),
            hour,
            minute,
            second,
            micro,
            tzinfo=zone,
        )
    except ValueError as exc:
        raise _CellError(f"{_short(text)} is not a real date or time ({exc})") from exc
    return _utc_text(moment)


def _choice(column: Column, raw: Raw) -> str | bool:
    if column.key in _BOOLEAN_KEYS:
        if isinstance(raw, bool):
            return raw
        word = _text_of(raw).casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise _CellError(f"{_short(_text_of(raw))} is not true or false")
    text = _text_of(raw)
    wanted = " ".join(text.split()).casefold()
    for choice in column.choices:
        if choice.casefold() == wanted:
            return choice
    message = f"{_short(text)} is not one of: {', '.join(column.choices)}"
    if column.key == "pcf.declaredUnitOfMeasurement":
        hint = _UNIT_HINTS.get(wanted.replace(".", ""))
        message = f"unknown unit {_short(text)}; use one of: {', '.join(column.choices)}"
        if hint:
            message += f" (for {text} write {hint})"
    raise _CellError(message)


def _split_list(raw: Raw) -> list[str]:
    text = _text_of(raw).replace("；", ";")
    return [item.strip() for item in text.split(";") if item.strip()]


def _emission_factor_sources(items: list[str]) -> list[dict[str, str]]:
    sources = []
    for item in items:
        name, _, version = item.rpartition(" ")
        if not name.strip():
            raise _CellError(
                f"{_short(item)}: write the database name, a space and its version, "
                "e.g. ecoinvent 3.10"
            )
        sources.append({"name": name.strip(), "version": version})
    return sources


def _convert(column: Column, raw: Raw) -> Any:
    """A non-blank raw cell → the JSON value of the column's field (or ``None`` if empty)."""
    if isinstance(raw, _Formula):
        raise _CellError(f"formulas are not accepted, paste values (found {_short(raw)})")
    if isinstance(raw, _ExcelError):
        raise _CellError(f"the cell shows the Excel error {raw}; put a value in it")
    if isinstance(raw, str) and raw.lstrip().startswith("="):
        # A CSV cell can't hold a live formula, but "=…" text is one when the sheet is
        # opened again (formula injection); no PACT value starts with "=".
        raise _CellError(
            f"looks like a formula: formulas are not accepted, paste values ({_short(raw)})"
        )
    kind = column.kind
    if kind == "decimal":
        return _decimal(raw)
    if kind == "datetime":
        return _date_time(raw)
    if kind == "choice":
        return _choice(column, raw)
    if kind == "list":
        items = _split_list(raw)
        if not items:
            return None
        if column.key == "pcf.secondaryEmissionFactorSources":
            return _emission_factor_sources(items)
        return items
    return _text_of(raw) or None


def _put(document: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted path; a numeric segment indexes a list (``a.0.b``)."""
    segments = _PATHS[key]
    node: Any = document
    for segment, following in itertools.pairwise(segments):
        child: Any = [] if following.isdigit() else {}
        if segment.isdigit():
            index = int(segment)
            while len(node) <= index:
                node.append(child)
            node = node[index]
        else:
            node = node.setdefault(segment, child)
    node[segments[-1]] = value


# --------------------------------------------------------------------------- readers


def _csv_records(data: bytes) -> Iterator[tuple[int, list[Raw]]]:
    if data.startswith(b"PK\x03\x04"):
        raise SheetError(
            [
                RowError(
                    0,
                    "",
                    "this file is an Excel workbook with a .csv name; upload it as .xlsx, or "
                    "in Excel use Save As and choose 'CSV UTF-8 (Comma delimited) (*.csv)'",
                )
            ]
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise SheetError(
            [
                RowError(
                    0,
                    "",
                    "the file is UTF-16 text ('Unicode Text'), not a UTF-8 CSV; in Excel use "
                    "Save As and choose 'CSV UTF-8 (Comma delimited) (*.csv)'",
                )
            ]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = ""
        try:
            data.decode("gb18030")
            hint = " It looks like GBK/GB18030, the default of Chinese Windows."
        except UnicodeDecodeError:
            pass
        raise SheetError(
            [
                RowError(
                    line,
                    "",
                    f"the file is not UTF-8 text (an undecodable byte on line {line}).{hint} "
                    "In Excel use Save As and choose 'CSV UTF-8 (Comma delimited) (*.csv)'",
                )
            ]
        ) from None
    if "\x00" in text:
        raise SheetError([RowError(0, "", "the file holds NUL bytes: it is not a CSV text file")])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, list(record)
    except csv.Error as exc:
        raise SheetError(
            [RowError(number + 1, "", f"the CSV is malformed near line {reader.line_num}: {exc}")]
        ) from None


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _xlsx_records(data: bytes, max_rows: int) -> Iterator[tuple[int, list[Raw]]]:
    if data.startswith(_OLE_MAGIC):
        raise SheetError(
            [
                RowError(
                    0,
                    "",
                    "this is not an .xlsx workbook: it is an old-format Excel (.xls) file or a "
                    "password-protected workbook; remove any password and save as "
                    "'Excel Workbook (*.xlsx)'",
                )
            ]
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SheetError(
            [RowError(0, "", "the file is not a valid .xlsx workbook (it is not a zip archive)")]
        ) from None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise SheetError(
            [
                RowError(
                    0,
                    "",
                    "the workbook contains macros, which are not accepted; save it as "
                    "'Excel Workbook (*.xlsx)'",
                )
            ]
        )
    if "xl/workbook.xml" not in names:
        raise SheetError(
            [RowError(0, "", "the file is a zip archive but not an Excel workbook (.xlsx)")]
        )
    if unpacked > 16 * 1024 * 1024 + 16 * 1024 * max_rows:
        raise SheetError(
            [RowError(0, "", "the workbook unpacks to far more data than the row limit allows")]
        )
    try:
        yield from _xlsx_cells(data)
    except SheetError:
        raise
    except Exception as exc:  # openpyxl raises many types on damaged files
        raise SheetError(
            [
                RowError(
                    0,
                    "",
                    f"the .xlsx workbook is damaged and cannot be read ({type(exc).__name__}); "
                    "open it in Excel and save it again",
                )
            ]
        ) from None


def _xlsx_cells(data: bytes) -> Iterator[tuple[int, list[Raw]]]:
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        if DATA_SHEET in workbook.sheetnames:
            sheet = workbook[DATA_SHEET]
        elif workbook.worksheets:
            sheet = workbook.worksheets[0]
        else:
            raise SheetError([RowError(0, "", "the workbook has no worksheet")])
        sheet.reset_dimensions()
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            yield number, [_xlsx_raw(cell) for cell in cells]
    finally:
        workbook.close()


def _xlsx_raw(cell: Any) -> Raw:
    value = cell.value
    if value is None:
        return None
    kind = cell.data_type
    if kind == "f":
        return _Formula(getattr(value, "text", None) or str(value))
    if kind == "e":
        return _ExcelError(str(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "%" in (cell.number_format or ""):
            return _Percent(value)
        return value
    if isinstance(value, str | bool | datetime | date | time):
        return value
    if isinstance(value, timedelta):
        return _ExcelError("(a duration)")
    return str(value)


# --------------------------------------------------------------------------- parsing


def _map_headers(cells: Sequence[Raw]) -> list[Column | None]:
    """Row 1 → the column of each position (None for blank headers); SheetError if bad."""
    texts = ["" if _is_blank(raw) else _header_text(raw) for raw in cells]
    if not any(texts):
        raise SheetError(
            [
                RowError(
                    1,
                    "",
                    "row 1 is empty: the first row must be the header row of the template",
                )
            ]
        )
    mapping: list[Column | None] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    known = 0
    for position, text in enumerate(texts):
        if not text:
            mapping.append(None)
            continue
        column = _HEADER_INDEX.get(_normalise_header(text))
        mapping.append(column)
        if column is None:
            errors.append(
                RowError(
                    1,
                    "",
                    f"unknown column header {_short(text)} in column {_column_letter(position)}",
                )
            )
            continue
        known += 1
        if column.key in seen:
            errors.append(
                RowError(
                    1,
                    column.header_en,
                    f"duplicated column: columns {_column_letter(seen[column.key])} and "
                    f"{_column_letter(position)} are both {column.header_en}; keep one",
                )
            )
        else:
            seen[column.key] = position
    if not known:
        if len(texts) == 1 and (";" in texts[0] or "\t" in texts[0]):
            message = (
                "the columns are separated by ';' or tabs, not commas; in Excel use Save As "
                "and choose 'CSV UTF-8 (Comma delimited) (*.csv)'"
            )
        else:
            message = (
                "the header row is missing: row 1 must hold the column headers of the "
                f"template, but none is known (first value: {_short(next(t for t in texts if t))})"
            )
        raise SheetError([RowError(1, "", message)])
    for column in COLUMNS:
        if column.required and column.key not in seen:
            errors.append(RowError(1, column.header_en, "required column is missing"))
    if errors:
        raise SheetError(errors)
    return mapping


def _header_text(raw: Raw) -> str:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return _number_text(raw)
    return str(raw)


def _file_kind(file_name: str) -> str:
    name = file_name.strip().lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension in {"csv", "xlsx"}:
        return extension
    if extension in {"xlsm", "xltm", "xlam"}:
        reason = "macro-enabled workbooks (.xlsm) are not accepted"
    elif extension in {"xls", "xlt"}:
        reason = "the old Excel format (.xls) is not accepted"
    elif extension == "xlsb":
        reason = "binary workbooks (.xlsb) are not accepted"
    elif extension in {"ods", "numbers", "txt", "tsv", "json"}:
        reason = f".{extension} files are not accepted here"
    elif extension:
        reason = f".{extension} files are not accepted"
    else:
        reason = "the file name has no extension"
    raise SheetError(
        [
            RowError(
                0,
                "",
                f"{reason}; upload an .xlsx workbook ('Excel Workbook (*.xlsx)') or a CSV "
                "saved as 'CSV UTF-8 (Comma delimited) (*.csv)'",
            )
        ]
    )


def parse_upload(
    data: bytes,
    *,
    file_name: str,
    company_name: str,
    company_ids: list[str],
    now: datetime,
    max_rows: int,
) -> tuple[list[ParsedRow], list[RowError]]:
    """Read a filled-in template into PACT v3 ProductFootprint documents.

    The file type comes from ``file_name`` (.csv or .xlsx). File-level problems (encoding,
    format, headers, more than ``max_rows`` footprint rows, no rows at all) raise
    :class:`SheetError`. Otherwise the answer is the rows that mapped cleanly and the cell
    errors of the others; a row with any error is not among the parsed rows. Empty rows
    are skipped. The documents are not validated here: run the PACT validator on each and
    map its pointers back with :func:`column_for_pointer`.

    ``companyName`` / ``companyIds`` come from the arguments, ``created`` is ``now`` in UTC,
    ``status`` is Active, ``specVersion`` is :data:`SPEC_VERSION`, and a blank ``id`` gets a
    new random UUID.
    """
    kind = _file_kind(file_name)
    records = _csv_records(data) if kind == "csv" else _xlsx_records(data, max_rows)
    stamp = now if now.tzinfo else now.replace(tzinfo=UTC)
    created = _utc_text(stamp.replace(microsecond=0))

    header = next(records, None)
    if header is None:
        raise SheetError([RowError(0, "", "the file is empty")])
    mapping = _map_headers(header[1])

    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    ids: dict[str, int] = {}
    count = 0
    for number, cells in records:
        if all(_is_blank(raw) for raw in cells):
            continue
        count += 1
        if count > max_rows:
            raise SheetError(
                [
                    RowError(
                        number,
                        "",
                        f"too many rows: at most {max_rows} footprints per upload; split the file",
                    )
                ]
            )
        document, row_errors = _row_document(
            number, cells, mapping, company_name, company_ids, created
        )
        own_id = document.get("id")
        if isinstance(own_id, str) and not row_errors:
            first = ids.setdefault(own_id.lower(), number)
            if first != number:
                row_errors.append(
                    RowError(number, _BY_KEY["id"].header_en, f"the same PCF id as row {first}")
                )
        if row_errors:
            errors.extend(row_errors)
        else:
            parsed.append(ParsedRow(number, document))
    if count == 0:
        raise SheetError([RowError(0, "", "the file has a header row but no footprint rows")])
    return parsed, errors


def _row_document(
    number: int,
    cells: Sequence[Raw],
    mapping: Sequence[Column | None],
    company_name: str,
    company_ids: Iterable[str],
    created: str,
) -> tuple[dict[str, Any], list[RowError]]:
    document: dict[str, Any] = {
        "id": None,
        "specVersion": SPEC_VERSION,
        "created": created,
        "status": "Active",
        "companyName": company_name,
        "companyIds": list(company_ids),
    }
    errors: list[RowError] = []
    filled: set[str] = set()
    for position, raw in enumerate(cells):
        column = mapping[position] if position < len(mapping) else None
        if column is None:
            if not _is_blank(raw):
                errors.append(
                    RowError(
                        number,
                        "",
                        f"column {_column_letter(position)} has a value but no header",
                    )
                )
            continue
        if _is_blank(raw):
            continue
        try:
            value = _convert(column, raw)
        except _CellError as exc:
            errors.append(RowError(number, column.header_en, str(exc)))
            continue
        if value is not None:
            _put(document, column.key, value)
            filled.add(column.key)
    flagged = {error.column for error in errors}
    for column in _REQUIRED:
        if column.key not in filled and column.header_en not in flagged:
            errors.append(RowError(number, column.header_en, "required value is missing"))
    if document["id"] is None:
        document["id"] = str(uuid.uuid4())
    return document, errors


# --------------------------------------------------------------------------- pointers


def column_for_pointer(pointer: str) -> str:
    """The ``header_en`` of the column a validator's JSON Pointer is about, or "".

    ``/pcf/geographyCountry`` → "Country"; ``/productIds/2`` → "Product IDs";
    ``/pcf/secondaryEmissionFactorSources/0/name`` → "Secondary emission factor sources".
    A pointer to an object that several columns fill (``/pcf/dqi``) or to a field no column
    fills (``/companyName``, ``/created``) gives "".
    """
    if not pointer.startswith("/"):
        return ""
    segments = [s.replace("~1", "/").replace("~0", "~") for s in pointer[1:].split("/")]
    for end in range(len(segments), 0, -1):
        column = _BY_KEY.get(".".join(segments[:end]))
        if column is not None:
            return column.header_en
    prefix = ".".join(segments) + "."
    under = [column for column in COLUMNS if column.key.startswith(prefix)]
    return under[0].header_en if len(under) == 1 else ""


# --------------------------------------------------------------------------- error report


def error_report_csv(errors: Iterable[RowError]) -> bytes:
    """The downloadable error report: UTF-8 CSV (with BOM) of row, column, message.

    Cells that a spreadsheet would take for a formula are prefixed with an apostrophe.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Row / 行", "Column / 列", "Message / 说明"])
    for error in errors:
        writer.writerow([str(error.row), _inert(error.column), _inert(error.message)])
    return out.getvalue().encode("utf-8-sig")


def _inert(text: str) -> str:
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text
