"""The two faces of the domain's HTTP API: `/meta` (Facebook Pages) and `/instagram`.

Most routes are the same for both, with the platform's own words in their paths (`assets` /
`accounts`, `posts` / `media`, `assetId` / `igAccountId`); each area module adds its routes to
both routers from one definition.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flavor:
    platform: str
    prefix: str
    tag: str
    asset_param: str
    assets_path: str
    posts_path: str
    asset_word: str
    post_word: str

    @property
    def asset_path(self) -> str:
        return f"{self.assets_path}/{{{self.asset_param}}}"


FACEBOOK = Flavor(
    platform="facebook",
    prefix="/meta",
    tag="Meta (Facebook Pages)",
    asset_param="assetId",
    assets_path="/assets",
    posts_path="/posts",
    asset_word="Page",
    post_word="post",
)
INSTAGRAM = Flavor(
    platform="instagram",
    prefix="/instagram",
    tag="Instagram",
    asset_param="igAccountId",
    assets_path="/accounts",
    posts_path="/media",
    asset_word="Instagram account",
    post_word="media",
)
