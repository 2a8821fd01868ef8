"""Attachments: uploaded by multipart, typed from their bytes, kept by content hash, served
back only to their account, as a download the browser does not sniff."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.conversations.helpers import assert_error, new_api, upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


async def test_a_file_is_stored_by_its_hash_and_downloaded_as_it_was(
    client: httpx.AsyncClient,
) -> None:
    from ticaret.conversations.service.attachments import path_of

    api = await new_api(client)
    made = await upload(api, PNG, "ürün fotoğrafı.png", "image/png")
    assert made["filename"] == "ürün fotoğrafı.png"
    assert made["contentType"] == "image/png"
    assert made["size"] == len(PNG)
    stored = path_of(hashlib.sha256(PNG).hexdigest())
    assert stored.read_bytes() == PNG
    # The same bytes again: another attachment, the same file on disk, no half-written copy.
    again = await upload(api, PNG, "copy.png", "image/png")
    assert again["id"] != made["id"]
    assert sorted(p.name for p in stored.parent.iterdir()) == [stored.name]

    download = await api.response("GET", f"/attachments/{made['id']}")
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "filename*=utf-8''%C3%BCr%C3%BCn" in download.headers["content-disposition"]


@pytest.mark.parametrize(
    ("content", "declared", "stored"),
    [
        # A page sent as a picture, or named as HTML: plain text, never HTML.
        (b"<html><script>alert(1)</script></html>", "image/png", "text/plain"),
        (b"<svg onload='alert(1)'></svg>", "image/svg+xml", "text/plain"),
        (b"sku,name\r\nA,B\r\n", "text/csv", "text/csv"),
        # A picture sent as a document keeps what its bytes are.
        (PNG, "application/pdf", "image/png"),
        (b"%PDF-1.7\n", "application/octet-stream", "application/pdf"),
        (b"PK\x03\x04" + b"\x00" * 20, "application/zip", "application/zip"),
        (
            b"PK\x03\x04" + b"\x00" * 20,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (b"\x00\x01\x02\x03binary", "image/png", "application/octet-stream"),
    ],
)
async def test_the_type_comes_from_the_bytes(
    client: httpx.AsyncClient, content: bytes, declared: str, stored: str
) -> None:
    api = await new_api(client)
    made = await upload(api, content, "file.bin", declared)
    assert made["contentType"] == stored


async def test_unwanted_files_are_refused(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticaret.settings import get_settings

    api = await new_api(client)
    program = await api.response(
        "POST", "/attachments", files={"file": ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "")}
    )
    assert_error(program, 422, "attachment_rejected")
    empty = await api.response("POST", "/attachments", files={"file": ("a.txt", b"", "text/plain")})
    assert_error(empty, 422, "attachment_rejected")
    no_file = await api.response("POST", "/attachments", data={"x": "y"})
    assert_error(no_file, 422)
    monkeypatch.setattr(get_settings().attachments, "max_bytes", 2048)
    large = await api.response(
        "POST", "/attachments", files={"file": ("big.txt", b"a" * 2049, "text/plain")}
    )
    assert_error(large, 413, "attachment_too_large")
    fits = await api.response(
        "POST", "/attachments", files={"file": ("ok.txt", b"a" * 2048, "text/plain")}
    )
    assert fits.status_code == 201, fits.text


async def test_another_accounts_attachment_is_a_404(client: httpx.AsyncClient) -> None:
    owner = await new_api(client, "Owner")
    stranger = await new_api(client, "Stranger")
    made = await upload(owner, b"private notes", "notes.txt")
    response = await stranger.response("GET", f"/attachments/{made['id']}")
    assert_error(response, 404)
    assert "private notes" not in response.text and "notes.txt" not in response.text
    assert_error(await stranger.response("GET", "/attachments/not-a-uuid"), 422)


async def test_an_upload_retried_with_its_key_is_stored_once(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    key = {"Idempotency-Key": "upload-1"}
    files = {"file": ("a.txt", b"hello", "text/plain")}
    first = await api.post("/attachments", files=files, headers=key)
    again = await api.post("/attachments", files=files, headers=key)
    assert again == first
