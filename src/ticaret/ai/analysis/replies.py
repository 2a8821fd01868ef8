"""What the deterministic analyser suggests answering, and its one-line summary: templates in
the account's language (Turkish or English), filled with the matched product's price, stock
and variant."""

from __future__ import annotations

from decimal import Decimal

from ticaret.ai.analysis.lexicon import colour_name
from ticaret.ai.analysis.matching import Candidate, Matching
from ticaret.ai.analysis.understanding import Understanding
from ticaret.ai.schemas import Commerce, MissingField
from ticaret.core.money import format_decimal
from ticaret.models import Intent, MatchStatus, StockStatus


def price_text(amount: Decimal | None, currency: str, language: str) -> str | None:
    """1299.90 TRY -> "1.299,90 TL" in Turkish, "1,299.90 TRY" otherwise."""
    if amount is None:
        return None
    plain = format_decimal(amount)
    whole, _, cents = plain.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    if language.startswith("tr"):
        text = sign + ".".join(groups) + ("," + cents if cents else "")
        return f"{text} {'TL' if currency == 'TRY' else currency}"
    text = sign + ",".join(groups) + ("." + cents if cents else "")
    return f"{text} {currency}"


def _variant_words(understanding: Understanding, turkish: bool) -> str:
    parts = [colour_name(c) for c in understanding.wanted.colours]
    if understanding.wanted.sizes:
        size = "/".join(understanding.wanted.sizes)
        parts.append(f"{size} beden" if turkish else f"size {size}")
    return ", ".join(parts)


def _stock_sentence(candidate: Candidate, understanding: Understanding, turkish: bool) -> str:
    asked = understanding.wanted.sizes
    if asked and candidate.size_available is False:
        sizes = ", ".join(candidate.sizes())
        return (
            f"{'/'.join(asked)} bedeni bu üründe yok; mevcut bedenler: {sizes}."
            if turkish
            else f"Size {'/'.join(asked)} is not available; sizes: {sizes}."
        )
    if candidate.stock_status == StockStatus.out_of_stock:
        return "Şu anda stokta yok." if turkish else "It is out of stock at the moment."
    if candidate.stock_status == StockStatus.preorder:
        return "Ön siparişle temin edebiliyoruz." if turkish else "It is available to preorder."
    quantity = candidate.stock_quantity
    if candidate.stock_status == StockStatus.low_stock and quantity:
        return f"Stokta son {quantity} adet var." if turkish else f"Only {quantity} left in stock."
    return "Stokta mevcut." if turkish else "It is in stock."


def _product_line(candidate: Candidate, understanding: Understanding, language: str) -> str:
    turkish = language.startswith("tr")
    name = candidate.product.name
    variant = _variant_words(understanding, turkish)
    price = price_text(candidate.price, candidate.product.currency, language)
    head = f"{name} ({variant})" if variant else name
    if price:
        head += f" fiyatı {price}." if turkish else f" costs {price}."
    else:
        head += "."
    return f"{head} {_stock_sentence(candidate, understanding, turkish)}"


def suggested_reply(
    understanding: Understanding, matching: Matching, commerce: Commerce, language: str
) -> str:
    turkish = language.startswith("tr")
    intent = understanding.intent
    if intent is Intent.complaint:
        return (
            "Yaşadığınız sorun için çok üzgünüz. Sipariş numaranızı ve yaşadığınız sorunu "
            "paylaşırsanız hemen ilgileneceğiz."
            if turkish
            else "We are sorry about this. Please share your order number and what went "
            "wrong, and we will take care of it right away."
        )
    if intent is Intent.greeting and not matching.candidates:
        return (
            "Merhaba, hoş geldiniz! Size nasıl yardımcı olabilirim?"
            if turkish
            else "Hello, welcome! How can I help you?"
        )
    if intent is Intent.other and not matching.candidates:
        return (
            "Mesajınız için teşekkürler, en kısa sürede dönüş yapacağız."
            if turkish
            else "Thank you for your message; we will get back to you shortly."
        )
    if not matching.candidates:
        return (
            "Aradığınız ürünü bulamadım. Ürünün adını ya da bir fotoğrafını paylaşabilir misiniz?"
            if turkish
            else "I could not find that product. Could you share its name or a photo?"
        )
    if matching.status is MatchStatus.ambiguous:
        close = [c for c in matching.candidates if c.match_status is MatchStatus.ambiguous][:3]
        options = "; ".join(
            f"{i}) {c.product.name}"
            + (
                f" - {price_text(c.price, c.product.currency, language)}"
                if c.price is not None
                else ""
            )
            for i, c in enumerate(close, 1)
        )
        return (
            f"Birkaç seçeneğimiz var: {options}. Hangisiyle ilgileniyorsunuz?"
            if turkish
            else f"We have a few options: {options}. Which one do you mean?"
        )
    best = matching.candidates[0]
    reply = _product_line(best, understanding, language)
    missing = commerce.missing_fields
    if intent is Intent.order:
        asks: list[str] = []
        if MissingField.variant in missing:
            asks.append("beden ve renk tercihinizi" if turkish else "your size and colour")
        if MissingField.quantity in missing:
            asks.append("kaç adet istediğinizi" if turkish else "how many you would like")
        if MissingField.address in missing or MissingField.customer in missing:
            asks.append(
                "ad soyad ve teslimat adresinizi" if turkish else "your name and delivery address"
            )
        if asks:
            reply += (
                f" Siparişinizi oluşturmam için {', '.join(asks)} paylaşır mısınız?"
                if turkish
                else f" To place your order, could you share {', '.join(asks)}?"
            )
        else:
            reply += (
                " Siparişinizi oluşturmamı onaylıyor musunuz?"
                if turkish
                else " Shall I place the order?"
            )
    elif best.in_stock and best.size_available is not False:
        reply += " Sipariş vermek ister misiniz?" if turkish else " Would you like to order it?"
    return reply


def summary(understanding: Understanding, matching: Matching, language: str) -> str:
    turkish = language.startswith("tr")
    best = matching.best
    product = (
        best.product.name
        if best is not None and matching.status is not MatchStatus.ambiguous
        else understanding.product_text
    )
    variant = _variant_words(understanding, turkish)
    subject = " ".join(p for p in (product, f"({variant})" if variant else "") if p) or (
        "ürün" if turkish else "a product"
    )
    quantity = understanding.quantity
    amount = f"{quantity} adet " if turkish and quantity else f"{quantity} x " if quantity else ""
    intent = understanding.intent
    if turkish:
        return {
            Intent.stock_question: f"Müşteri {subject} için stok soruyor.",
            Intent.price_question: f"Müşteri {subject} fiyatını soruyor.",
            Intent.order: f"Müşteri {amount}{subject} sipariş etmek istiyor.",
            Intent.product_inquiry: f"Müşteri {subject} hakkında bilgi istiyor.",
            Intent.complaint: "Müşteri bir sorundan şikayet ediyor.",
            Intent.greeting: "Müşteri selam verdi.",
        }.get(intent, "Müşteri bir mesaj gönderdi.")
    return {
        Intent.stock_question: f"The customer asks whether {subject} is in stock.",
        Intent.price_question: f"The customer asks the price of {subject}.",
        Intent.order: f"The customer wants to order {amount}{subject}.",
        Intent.product_inquiry: f"The customer asks about {subject}.",
        Intent.complaint: "The customer complains about a problem.",
        Intent.greeting: "The customer said hello.",
    }.get(intent, "The customer sent a message.")
