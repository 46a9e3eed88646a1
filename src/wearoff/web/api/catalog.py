"""The products and areas the records accept."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wearoff.catalog import load_catalog
from wearoff.web.auth import ApiActor

router = APIRouter(tags=["catalog"])


@router.get("/catalog")
def catalog(actor: ApiActor) -> dict[str, Any]:
    """Product and area codes with their labels, label maximum units and typical doses."""
    c = load_catalog()
    return {
        "products": [{"code": p.code, "brands": p.brands, "is_toxin": p.is_toxin} for p in c.products.values()],
        "areas": [
            {
                "code": a.code,
                "label": a.label,
                "units_are": a.units_are,
                "label_max_units": a.label_max_units.value,
                "typical_units_female": [a.typical_units_female.low, a.typical_units_female.high],
                "typical_units_male": [a.typical_units_male.low, a.typical_units_male.high],
            }
            for a in c.areas.values()
        ],
    }
