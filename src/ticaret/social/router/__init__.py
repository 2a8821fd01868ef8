"""`/meta` (Facebook Pages) and `/instagram`: one router each, built from the area modules."""

from fastapi import APIRouter

from ticaret.social.router import assets, comments, oauth, posts, threads, webhook
from ticaret.social.router.flavor import FACEBOOK, INSTAGRAM, Flavor

AREAS = (oauth, webhook, assets, threads, posts, comments)


def _build(flavor: Flavor) -> APIRouter:
    router = APIRouter(prefix=flavor.prefix, tags=[flavor.tag])
    for area in AREAS:
        area.add_routes(router, flavor)
    return router


meta_router = _build(FACEBOOK)
instagram_router = _build(INSTAGRAM)
