"""PACT Technical Specifications v3.0 (WBCSD): the ProductFootprint data model, validated.

No Django here: the offline ``carbonx validate`` CLI uses the same rules as the server.
"""

from .fields import DECLARED_UNITS, SPEC_VERSION_PATTERN, default_validity_end
from .validation import (
    FootprintInvalid,
    Problem,
    Review,
    check_product_footprint,
    review_product_footprint,
    validate_product_footprint,
)

__all__ = [
    "DECLARED_UNITS",
    "SPEC_VERSION_PATTERN",
    "FootprintInvalid",
    "Problem",
    "Review",
    "check_product_footprint",
    "default_validity_end",
    "review_product_footprint",
    "validate_product_footprint",
]
