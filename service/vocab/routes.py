"""`GET /v1/vocab`: every coded vocabulary, for filter panels and client-side validation."""

from functools import cache
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from service.records.search import SPELLINGS, SYNONYMS
from service.vocab.countries import country_names
from service.vocab.currencies import currency_names
from service.vocab.terms import (
    SECTORS,
    Confidence,
    CountryRole,
    DualUseLevel,
    EventKind,
    MoneyKind,
    MoneyPeriod,
    MoneyQualifier,
    OrganisationRole,
    ProjectKind,
    ProjectStatus,
)
from service.web import answers
from service.web.error_docs import error_responses
from service.web.json_response import JSONBytes

router = APIRouter(prefix="/v1", tags=["vocabularies"])


@cache
def vocabularies() -> dict[str, Any]:
    def codes(enum: Any) -> list[str]:
        return [member.value for member in enum]

    return {
        "sectors": [{"code": k, "label": v} for k, v in SECTORS.items()],
        "event_kinds": codes(EventKind),
        "project_kinds": codes(ProjectKind),
        "project_statuses": codes(ProjectStatus),
        "country_roles": codes(CountryRole),
        "organisation_roles": codes(OrganisationRole),
        "dual_use_levels": codes(DualUseLevel),
        "confidence": codes(Confidence),
        "money_qualifiers": codes(MoneyQualifier),
        "money_kinds": codes(MoneyKind),
        "money_periods": codes(MoneyPeriod),
        "countries": [{"code": k, "name": v} for k, v in country_names().items()],
        "currencies": [{"code": k, "name": v} for k, v in currency_names().items()],
    }


@router.get(
    "/vocab",
    operation_id="get_vocabularies",
    summary="The published vocabularies",
    description="Sectors, kinds, statuses, roles, dual-use levels, money terms, ISO 3166 "
    "countries (plus EUU) and ISO 4217 currencies: every value a coded field accepts.",
    response_model=answers.Vocabularies,
    responses=error_responses(422, 429),
)
async def get_vocab() -> Response:
    return JSONBytes(vocabularies(), headers={"Cache-Control": "public, max-age=3600"})


@cache
def synonyms() -> dict[str, Any]:
    return {
        "synonyms": [
            {"canonical": canonical, "variants": list(variants)}
            for canonical, variants in SYNONYMS.items()
        ],
        "spellings": [{"american": a, "british": b} for a, b in SPELLINGS.items()],
        "rules": ["-ize, -izes, -ized, -izing, -ization and -yze forms are read as -ise, -yse"],
    }


@router.get(
    "/vocab/synonyms",
    operation_id="get_search_synonyms",
    summary="The variants search treats alike",
    description="The domain's known variants (each canonical word and the spellings `q` treats "
    "as the same: fibre and fiber, Jiaotong and Jiao Tong, RMB and yuan, AI and artificial "
    "intelligence, ...) and the American spellings read as British ones.",
    response_model=answers.Synonyms,
    responses=error_responses(422, 429),
)
async def get_synonyms() -> Response:
    return JSONBytes(synonyms(), headers={"Cache-Control": "public, max-age=3600"})
