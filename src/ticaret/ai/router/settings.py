"""`/ai/settings`: the account's provider, model, key and automation, and a live test."""

from __future__ import annotations

from fastapi import APIRouter

from ticaret.ai.schemas import AiSettingsOut, AiSettingsUpdate, SettingsTest, SettingsTestResult
from ticaret.ai.service import settings as service
from ticaret.core.db import DbSession
from ticaret.core.deps import Admin, Viewer
from ticaret.core.envelope import Envelope, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version

router = APIRouter(prefix="/ai/settings", tags=["AI settings"])


@router.get(
    "",
    summary="The account's AI settings (the key only as hasApiKey and its last 4 characters)",
    description="Account AI ayarlarini getirir. An account that never saved settings gets the "
    "defaults: automatic analysis on, the deterministic analyser until a key is set. `usage` "
    "is this month's tokens and cost estimate against the budget.",
    response_model=Envelope[AiSettingsOut],
    responses=error_responses(400, 401, 403),
)
async def get_ai_settings(ctx: Viewer, session: DbSession) -> Envelope[AiSettingsOut]:
    return ok(await service.get_settings_out(session, ctx))


@router.put(
    "",
    summary="Change the account's AI settings (fields left out keep their value)",
    description="Account AI ayarlarini gunceller. `provider`: `openai`, or "
    "`openai_compatible` with `baseUrl` (Azure OpenAI, OpenRouter, a local Ollama or vLLM). "
    "The key is stored encrypted and never shown again. A base URL on a private network is "
    "refused unless the operator allowed it (`TICARET_AI__ALLOW_PRIVATE_ENDPOINTS`).",
    response_model=Envelope[AiSettingsOut],
    responses=error_responses(400, 401, 403, 409, 422),
)
async def update_ai_settings(
    body: AiSettingsUpdate, ctx: Admin, session: DbSession, if_match: IfMatch = None
) -> Envelope[AiSettingsOut]:
    expected = expected_version(body.entity_version, if_match)
    return ok(await service.update_settings(session, ctx, body, expected))


@router.post(
    "/test",
    summary="Test the key and model with one real call to the provider",
    description="OpenAI key ve model test eder. Makes one minimal structured-output call "
    "(the saved settings, or the provider, baseUrl, model and apiKey given) and answers "
    "whether the model is available, whether the endpoint enforces JSON schemas, and the "
    "latency. A wrong key is a 422 `ai_key_rejected` with the provider's message.",
    response_model=Envelope[SettingsTestResult],
    responses=error_responses(400, 401, 403, 422, 429, 502),
)
async def check_ai_settings(
    ctx: Admin, session: DbSession, body: SettingsTest | None = None
) -> Envelope[SettingsTestResult]:
    return ok(await service.test_settings(session, ctx, body or SettingsTest()))


@router.delete(
    "/api-key",
    summary="Remove the stored key and turn AI automation off",
    description="Kayitli AI API key degerini siler ve AI otomasyonunu kapatir. Automatic "
    "analysis and replies are off afterwards; turn `autoAnalyzeInbound` back on to analyse "
    "with the deterministic analyser (no key).",
    response_model=Envelope[AiSettingsOut],
    responses=error_responses(400, 401, 403),
)
async def delete_ai_api_key(ctx: Admin, session: DbSession) -> Envelope[AiSettingsOut]:
    return ok(await service.delete_api_key(session, ctx))
