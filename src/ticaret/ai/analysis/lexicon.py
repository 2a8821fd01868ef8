"""What the deterministic analyser knows of Turkish shop talk: colours, sizes, numbers, the
phrases of each intent and the words that never name a product. Every entry is folded
(`text.fold`); display forms keep their Turkish letters."""

from __future__ import annotations

from functools import cache

from ticaret.ai.analysis.text import fold
from ticaret.models import Intent

# Colours: folded spelling -> how we show it. English names map to the Turkish ones so a vision
# model's "navy blue" and a customer's "lacivert" agree.
COLOURS: dict[str, str] = {
    "kirmizi": "kırmızı",
    "mavi": "mavi",
    "lacivert": "lacivert",
    "siyah": "siyah",
    "beyaz": "beyaz",
    "yesil": "yeşil",
    "sari": "sarı",
    "mor": "mor",
    "pembe": "pembe",
    "turuncu": "turuncu",
    "gri": "gri",
    "kahverengi": "kahverengi",
    "kahve": "kahverengi",
    "bej": "bej",
    "krem": "krem",
    "bordo": "bordo",
    "haki": "haki",
    "ekru": "ekru",
    "fume": "füme",
    "vizon": "vizon",
    "lila": "lila",
    "turkuaz": "turkuaz",
    "altin": "altın",
    "gumus": "gümüş",
    "antrasit": "antrasit",
    "indigo": "indigo",
    "mint": "mint",
    "somon": "somon",
    "hardal": "hardal",
    "petrol": "petrol",
    "fusya": "fuşya",
    "taba": "taba",
    "camel": "camel",
    "leylak": "leylak",
    "mercan": "mercan",
    "red": "kırmızı",
    "blue": "mavi",
    "navy": "lacivert",
    "black": "siyah",
    "white": "beyaz",
    "green": "yeşil",
    "yellow": "sarı",
    "purple": "mor",
    "pink": "pembe",
    "orange": "turuncu",
    "gray": "gri",
    "grey": "gri",
    "brown": "kahverengi",
    "beige": "bej",
    "cream": "krem",
    "burgundy": "bordo",
    "khaki": "haki",
    "gold": "altın",
    "silver": "gümüş",
    "turquoise": "turkuaz",
}


@cache
def _colour_names() -> dict[str, str]:
    return {fold(name): name for name in COLOURS.values()}


def colour_name(folded: str) -> str:
    """How a colour is shown ("kirmizi" -> "kırmızı")."""
    return _colour_names().get(folded, folded)


def colour_of(text: str) -> str | None:
    """The colour a word or short phrase names (a vision model's "navy blue"), folded."""
    for word in reversed(text.split()):
        name = COLOURS.get(fold(word))
        if name is not None:
            return fold(name)
    return None


# Words that say "colour" next to a colour ("mor renkli", "rengi siyah").
COLOUR_WORDS = frozenset({"renk", "renkli", "rengi", "renkte", "rengini", "renkleri", "color"})

# Sizes: letter sizes (and their spelled-out forms) as shops write them.
LETTER_SIZES: dict[str, str] = {
    "xxs": "XXS",
    "xs": "XS",
    "s": "S",
    "m": "M",
    "l": "L",
    "xl": "XL",
    "xxl": "XXL",
    "xxxl": "3XL",
    "2xl": "XXL",
    "3xl": "3XL",
    "4xl": "4XL",
    "small": "S",
    "medium": "M",
    "large": "L",
    "standart": "STD",
}
# Single letters are sizes only when typed in capitals or next to a size word ("m beden").
AMBIGUOUS_SIZES = frozenset({"s", "m", "l"})
SIZE_WORDS = frozenset({"beden", "bedeni", "bedenin", "size", "numara", "numarasi", "no", "boy"})
# "orta beden" is M; "küçük beden" S; "büyük beden" L (only next to a size word).
SPELLED_SIZES = {"kucuk": "S", "orta": "M", "buyuk": "L"}
NUMERIC_SIZE_RANGE = range(19, 61)  # shoe 19-47, clothing 32-60

# Dates customers give ("yarın", "cuma", "15 mart"), folded -> shown.
DAY_WORDS: dict[str, str] = {
    "bugun": "bugün",
    "yarin": "yarın",
    "haftaya": "haftaya",
    "pazartesi": "pazartesi",
    "sali": "salı",
    "carsamba": "çarşamba",
    "persembe": "perşembe",
    "cuma": "cuma",
    "cumartesi": "cumartesi",
}
MONTHS: dict[str, str] = {
    "ocak": "ocak",
    "subat": "şubat",
    "mart": "mart",
    "nisan": "nisan",
    "mayis": "mayıs",
    "haziran": "haziran",
    "temmuz": "temmuz",
    "agustos": "ağustos",
    "eylul": "eylül",
    "ekim": "ekim",
    "kasim": "kasım",
    "aralik": "aralık",
}

# Quantities.
NUMBER_WORDS: dict[str, int] = {
    "bir": 1,
    "bi": 1,
    "iki": 2,
    "uc": 3,
    "dort": 4,
    "bes": 5,
    "alti": 6,
    "yedi": 7,
    "sekiz": 8,
    "dokuz": 9,
    "on": 10,
}
QUANTITY_UNITS = frozenset(
    {"adet", "tane", "tanesi", "ad", "cift", "paket", "kutu", "takim", "parca", "adt"}
)
CURRENCY_WORDS = frozenset({"tl", "lira", "try", "usd", "eur", "euro", "dolar"})

# Intents: phrases (folded words, consecutive) by intent. Single words are also matched a
# letter or two off (trigram similarity), so "fyat", "sparis" and "sikayt" still count.
INTENT_PHRASES: dict[Intent, tuple[str, ...]] = {
    Intent.complaint: (
        "sikayet",
        "sikayetci",
        "iade",
        "bozuk",
        "bozuldu",
        "yirtik",
        "yirtildi",
        "gelmedi",
        "ulasmadi",
        "gec kaldi",
        "hala gelmedi",
        "berbat",
        "rezalet",
        "rezil",
        "memnun degilim",
        "memnun kalmadim",
        "hasarli",
        "kirik",
        "kirildi",
        "yanlis urun",
        "yanlis geldi",
        "eksik geldi",
        "degisim",
        "degistirmek",
        "para iadesi",
        "kusurlu",
        "defolu",
        "lekeli",
        "sahte",
        "dolandirici",
        "magdur",
        "cok kotu",
        "iptal",
        "iptal etmek",
        "kotu",
        "sorun",
        "problem",
    ),
    Intent.order: (
        "siparis",
        "siparisi",
        "siparis vermek",
        "almak istiyorum",
        "alabilir miyim",
        "alabilirmiyim",
        "alicam",
        "alacagim",
        "alayim",
        "aliyorum",
        "istiyorum",
        "gonderir misiniz",
        "gonderirmisiniz",
        "gonderin",
        "gonderebilir misiniz",
        "yollayin",
        "yollar misiniz",
        "ayirin",
        "ayirir misiniz",
        "satin almak",
        "paketleyin",
        "kapida odeme",
        "kargolayin",
        "sepete",
        "adresime",
        "adrese",
    ),
    Intent.price_question: (
        "fiyat",
        "fiyati",
        "fiyatlari",
        "fiyatini",
        "kac para",
        "ne kadar",
        "kac tl",
        "kac lira",
        "ucret",
        "ucreti",
        "ucretlendirme",
        "indirim",
        "indirimli",
        "price",
    ),
    Intent.stock_question: (
        "var mi",
        "varmi",
        "var midir",
        "varmidir",
        "kaldi mi",
        "kaldimi",
        "stok",
        "stokta",
        "stokda",
        "stoklarda",
        "mevcut mu",
        "mevcutmu",
        "bulunur mu",
        "bulunuyor mu",
        "elinizde",
        "gelir mi",
        "gelecek mi",
        "tukendi mi",
        "tukenmis",
    ),
    Intent.product_inquiry: (
        "ozellik",
        "ozellikleri",
        "kumas",
        "kumasi",
        "materyal",
        "malzeme",
        "olcu",
        "olculeri",
        "beden tablosu",
        "kalip",
        "kalibi",
        "renkleri",
        "renk secenekleri",
        "secenek",
        "resim",
        "foto",
        "fotograf",
        "detay",
        "bilgi",
        "nasil",
        "hangi",
        "modeliniz",
        "modelleriniz",
    ),
    Intent.greeting: (
        "merhaba",
        "merhabalar",
        "mrb",
        "mrhb",
        "selam",
        "selamlar",
        "slm",
        "iyi gunler",
        "gunaydin",
        "iyi aksamlar",
        "hayirli gunler",
        "hello",
        "hi",
        "selamun aleykum",
        "sa",
        "kolay gelsin",
    ),
}
POSITIVE_PHRASES = (
    "tesekkur",
    "tesekkurler",
    "tesekkur ederim",
    "sagol",
    "sagolun",
    "cok guzel",
    "harika",
    "super",
    "bayildim",
    "memnunum",
    "begendim",
    "ellerinize saglik",
    "elinize saglik",
)

# What shops call a product that customers call otherwise (English words, loan words,
# shorthand): the customer's word -> the shop's, both folded.
SYNONYMS: dict[str, str] = {
    "tshirt": "tisort",
    "tisirt": "tisort",
    "tshrt": "tisort",
    "shirt": "gomlek",
    "dress": "elbise",
    "jacket": "ceket",
    "coat": "mont",
    "kaban": "mont",
    "shoe": "ayakkabi",
    "shoes": "ayakkabi",
    "sneaker": "ayakkabi",
    "sneakers": "ayakkabi",
    "boots": "bot",
    "bag": "canta",
    "skirt": "etek",
    "pants": "pantolon",
    "trousers": "pantolon",
    "jeans": "kot",
    "jean": "kot",
    "leather": "deri",
    "socks": "corap",
    "hat": "sapka",
    "necklace": "kolye",
    "earring": "kupe",
    "earrings": "kupe",
    "watch": "saat",
    "scarf": "atki",
    "sweater": "kazak",
    "cardigan": "hirka",
    "hoodie": "sweatshirt",
    "sweat": "sweatshirt",
    "sunglasses": "gozluk",
    "wallet": "cuzdan",
    "belt": "kemer",
    "slipper": "terlik",
    "slippers": "terlik",
    "pajamas": "pijama",
    "blouse": "bluz",
    "towel": "havlu",
    "blanket": "battaniye",
    "carpet": "hali",
    "rug": "hali",
    "curtain": "perde",
    "pillow": "kirlent",
}

# Words that name no product: question and filler words, pronouns, politeness, and the words
# the other lists already understand.
STOPWORDS = frozenset(
    {
        "bu", "su", "o", "ve", "ile", "icin", "mi", "mu", "misiniz", "musunuz", "misin",
        "miyim", "midir", "var", "yok", "lazim", "lazimdi", "acaba", "ne", "kadar", "renk",
        "renkli", "rengi", "renkte", "beden", "bedeni", "numara", "size", "tane", "adet",
        "sizde", "sizin", "sizinle", "bende", "ben", "bana", "benim", "biz", "bize", "ama",
        "da", "de", "ki", "cok", "daha", "en", "gibi", "olan", "olarak", "hangi", "nasil",
        "abi", "abla", "hocam", "kardesim", "lutfen", "rica", "ederim", "tesekkur",
        "tesekkurler", "hanim", "bey", "efendim", "tamam", "ok", "evet", "hayir", "yani",
        "sey", "bakar", "bakabilir", "olur", "olsun", "model", "modeli", "urun", "urunu",
        "urununuz", "urunler", "elinizde", "bunun", "bundan", "ondan", "bunu", "sunu", "onu",
        "kaldi", "stok", "stokta", "fiyat", "fiyati", "kac", "para", "tl", "lira", "merhaba",
        "selam", "iyi", "gunler", "istiyorum", "almak", "alabilir", "siparis", "gonderir",
        "varmi", "kaldimi", "mevcut", "bulunur", "hemen", "simdi", "bugun", "yarin",
        "gun", "hafta", "sizden", "boyle", "boyutu", "ya", "veya", "yada",
        "her", "hep", "tum", "bütün", "butun", "baska", "diger", "ayni", "ayrica", "bir",
        "iki", "uc", "ister", "isterim", "istiyoruz", "alalim", "alsam", "olursa", "olmaz",
        "tanesi", "adres", "adresim", "kargo", "kargoya", "kapida", "odeme", "no", "boy",
        "mevcutmu", "olabilir", "gerek", "gerekiyor", "pls", "plz", "slm", "mrb", "kolay",
        "gelsin", "acil", "nerede", "ne zaman", "zaman", "liste", "katalog", "fotosu",
        "resmi", "gorebilir", "atar", "atabilir", "gonder", "at", "bilgi", "yardimci",
        "musun", "siz", "sen", "onlar", "onun", "bunlar", "sunlar",
        "hangisi", "hangileri", "tekrar", "yine", "az", "biraz",
        "kucuk", "orta", "buyuk", "sizlerde", "sizlerin", "mesaj", "cevap", "hala",
        "teslim", "teslimat", "ulasir", "gelir",
        "kargom", "kargonuz", "iban", "hesap", "numarasi", "siparisim", "siparisimi",
        "verecegim",
    }
)  # fmt: skip
