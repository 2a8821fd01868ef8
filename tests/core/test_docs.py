"""/docs and /redoc work without internet: every asset they load comes from this server."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx

ASSET_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


class _AssetLinks(HTMLParser):
    """Every URL the page makes the browser fetch: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def asset_urls(html: str) -> list[str]:
    parser = _AssetLinks()
    parser.feed(html)
    return parser.urls


async def assert_same_origin_assets_load(client: httpx.AsyncClient, page: str) -> list[str]:
    response = await client.get(page)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    urls = asset_urls(response.text)
    assert urls, "the page loads no assets at all"
    for url in urls:
        parts = urlsplit(url)
        # No scheme and no host: the browser fetches it from the server that served the page.
        assert not parts.scheme and not parts.netloc, f"{page} loads {url} from elsewhere"
        assert url.startswith("/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        content_type = asset.headers["content-type"].split(";")[0]
        assert content_type in ASSET_TYPES[suffix], (url, content_type)
        assert len(asset.content) > 1000, url
    # Google Fonts and the like would also be a request to the internet.
    assert "fonts.googleapis" not in response.text
    return urls


async def test_swagger_ui_loads_only_from_this_server(client: httpx.AsyncClient) -> None:
    urls = await assert_same_origin_assets_load(client, "/docs")
    assert {url.rsplit("/", 1)[1] for url in urls} == {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "favicon.png",
    }
    page = (await client.get("/docs")).text
    # The page reads this server's OpenAPI document, and never the public validator.
    assert "url: '/openapi.json'" in page
    assert '"validatorUrl": null' in page


async def test_the_bundled_swagger_ui_reads_openapi_3_1(client: httpx.AsyncClient) -> None:
    # FastAPI writes OpenAPI 3.1, which Swagger UI renders only from version 5 on.
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    bundle = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert "isOAS31" in bundle.text


async def test_redoc_loads_only_from_this_server(client: httpx.AsyncClient) -> None:
    urls = await assert_same_origin_assets_load(client, "/redoc")
    assert any(url.endswith("/redoc.standalone.js") for url in urls)


async def test_swagger_oauth2_redirect_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert "oauth2" in response.text.lower()


async def test_an_unknown_docs_asset_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/assets/missing.js")
    assert response.status_code == 404


async def test_docs_pages_are_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
