"""The words each language needs around numbers, symbols and addresses.

Why: ``num2words`` says the numbers; what surrounds them ("percent", "to", month names,
units, "at" and "dot" of an e-mail address, common abbreviations) is per language and
small, so it is written here by hand. A language missing an entry keeps the written form
for that category (the model then meets it as before); the README lists who gets what.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lexicon:
    """One language's reading conventions.

    ``units`` and ``currencies`` hold the forms a count takes: one form (no agreement),
    two (singular, plural) or three (Slavic: 1, 2-4, 5+), chosen by ``num2words``.
    """

    decimal: str = "."  # the decimal mark; the other of "." and "," groups thousands
    space_groups: bool = False  # "1 234 567" groups thousands with spaces
    percent: str | None = None
    percent_first: bool = False  # Turkish: "%50" is "yüzde elli"
    range_word: str | None = None  # "3-5": three <to> five
    plus: str | None = None
    at: str | None = None
    dot: str | None = None
    and_word: str | None = None  # "&"
    months: tuple[str, ...] = ()
    units: dict[str, tuple[str, ...]] = field(default_factory=dict)
    currencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: written → spoken; a spoken form ending in "." keeps the period where a sentence
    #: may end there ("etc." before a capital), the others never do ("Dr. Smith").
    abbreviations: dict[str, str] = field(default_factory=dict)
    #: words before a Roman numeral that make it a plain number (World War II, chapter IV)
    roman_counts: frozenset[str] = frozenset()
    #: words after which a number from 1100 to 2099 is a year ("in 1999", "seit 1999"),
    #: read as the language reads years where that differs (nineteen ninety-nine)
    year_words: tuple[str, ...] = ()


def _u(**forms: str) -> dict[str, tuple[str, ...]]:
    """Unit forms written ``km="kilometer|kilometers"``; keys use ``_`` for ``/`` and ``°``."""
    keys = {"km_h": "km/h", "deg_C": "°C", "deg_F": "°F", "m2": "m²", "m3": "m³"}
    return {keys.get(k, k): tuple(v.split("|")) for k, v in forms.items()}


_EN_UNITS = _u(
    km="kilometer|kilometers", m="meter|meters", cm="centimeter|centimeters",
    mm="millimeter|millimeters", kg="kilogram|kilograms", g="gram|grams",
    mg="milligram|milligrams", l="liter|liters", ml="milliliter|milliliters",
    km_h="kilometer per hour|kilometers per hour", mph="mile per hour|miles per hour",
    deg_C="degree Celsius|degrees Celsius", deg_F="degree Fahrenheit|degrees Fahrenheit",
    KB="kilobyte|kilobytes", MB="megabyte|megabytes", GB="gigabyte|gigabytes",
    TB="terabyte|terabytes", Hz="hertz|hertz", kHz="kilohertz|kilohertz",
    MHz="megahertz|megahertz", GHz="gigahertz|gigahertz", W="watt|watts",
    kW="kilowatt|kilowatts", kWh="kilowatt hour|kilowatt hours", V="volt|volts",
    ms="millisecond|milliseconds", min="minute|minutes", h="hour|hours", mi="mile|miles",
    ft="foot|feet", lb="pound|pounds", lbs="pound|pounds", oz="ounce|ounces",
    m2="square meter|square meters",
)  # fmt: skip
_DE_UNITS = _u(
    km="Kilometer", m="Meter", cm="Zentimeter", mm="Millimeter", kg="Kilogramm", g="Gramm",
    mg="Milligramm", l="Liter", ml="Milliliter", km_h="Kilometer pro Stunde",
    deg_C="Grad Celsius", deg_F="Grad Fahrenheit", KB="Kilobyte", MB="Megabyte",
    GB="Gigabyte", TB="Terabyte", Hz="Hertz", kHz="Kilohertz", MHz="Megahertz",
    GHz="Gigahertz", W="Watt", kW="Kilowatt", kWh="Kilowattstunden", V="Volt",
    ms="Millisekunden", min="Minuten", h="Stunden", m2="Quadratmeter",
)  # fmt: skip
_FR_UNITS = _u(
    km="kilomètre|kilomètres", m="mètre|mètres", cm="centimètre|centimètres",
    mm="millimètre|millimètres", kg="kilogramme|kilogrammes", g="gramme|grammes",
    mg="milligramme|milligrammes", l="litre|litres", ml="millilitre|millilitres",
    km_h="kilomètre par heure|kilomètres par heure", deg_C="degré Celsius|degrés Celsius",
    deg_F="degré Fahrenheit|degrés Fahrenheit", KB="kilooctet|kilooctets",
    MB="mégaoctet|mégaoctets", GB="gigaoctet|gigaoctets", Go="gigaoctet|gigaoctets",
    Mo="mégaoctet|mégaoctets", TB="téraoctet|téraoctets", Hz="hertz", kHz="kilohertz",
    MHz="mégahertz", GHz="gigahertz", W="watt|watts", kW="kilowatt|kilowatts",
    kWh="kilowattheure|kilowattheures", V="volt|volts", ms="milliseconde|millisecondes",
    min="minute|minutes", h="heure|heures", m2="mètre carré|mètres carrés",
)  # fmt: skip
_ES_UNITS = _u(
    km="kilómetro|kilómetros", m="metro|metros", cm="centímetro|centímetros",
    mm="milímetro|milímetros", kg="kilogramo|kilogramos", g="gramo|gramos",
    mg="miligramo|miligramos", l="litro|litros", ml="mililitro|mililitros",
    km_h="kilómetro por hora|kilómetros por hora", deg_C="grado Celsius|grados Celsius",
    deg_F="grado Fahrenheit|grados Fahrenheit", KB="kilobyte|kilobytes",
    MB="megabyte|megabytes", GB="gigabyte|gigabytes", TB="terabyte|terabytes", Hz="hercio|hercios",
    kHz="kilohercio|kilohercios", MHz="megahercio|megahercios", GHz="gigahercio|gigahercios",
    W="vatio|vatios", kW="kilovatio|kilovatios", V="voltio|voltios",
    ms="milisegundo|milisegundos", min="minuto|minutos", h="hora|horas",
    m2="metro cuadrado|metros cuadrados",
)  # fmt: skip
_PT_UNITS = _u(
    km="quilômetro|quilômetros", m="metro|metros", cm="centímetro|centímetros",
    mm="milímetro|milímetros", kg="quilograma|quilogramas", g="grama|gramas",
    mg="miligrama|miligramas", l="litro|litros", ml="mililitro|mililitros",
    km_h="quilômetro por hora|quilômetros por hora", deg_C="grau Celsius|graus Celsius",
    deg_F="grau Fahrenheit|graus Fahrenheit", KB="kilobyte|kilobytes",
    MB="megabyte|megabytes", GB="gigabyte|gigabytes", TB="terabyte|terabytes", Hz="hertz",
    kHz="quilohertz", MHz="megahertz", GHz="gigahertz", W="watt|watts",
    kW="quilowatt|quilowatts", V="volt|volts", ms="milissegundo|milissegundos",
    min="minuto|minutos", h="hora|horas", m2="metro quadrado|metros quadrados",
)  # fmt: skip
_IT_UNITS = _u(
    km="chilometro|chilometri", m="metro|metri", cm="centimetro|centimetri",
    mm="millimetro|millimetri", kg="chilogrammo|chilogrammi", g="grammo|grammi",
    mg="milligrammo|milligrammi", l="litro|litri", ml="millilitro|millilitri",
    km_h="chilometro orario|chilometri orari", deg_C="grado Celsius|gradi Celsius",
    deg_F="grado Fahrenheit|gradi Fahrenheit", KB="kilobyte", MB="megabyte", GB="gigabyte",
    TB="terabyte", Hz="hertz", kHz="kilohertz", MHz="megahertz", GHz="gigahertz", W="watt",
    kW="kilowatt", V="volt", ms="millisecondo|millisecondi", min="minuto|minuti",
    h="ora|ore", m2="metro quadrato|metri quadrati",
)  # fmt: skip
_RU_UNITS = _u(
    km="километр|километра|километров", m="метр|метра|метров",
    cm="сантиметр|сантиметра|сантиметров", mm="миллиметр|миллиметра|миллиметров",
    kg="килограмм|килограмма|килограммов", g="грамм|грамма|граммов",
    l="литр|литра|литров", ml="миллилитр|миллилитра|миллилитров",
    km_h="километр в час|километра в час|километров в час",
    deg_C="градус Цельсия|градуса Цельсия|градусов Цельсия",
    MB="мегабайт|мегабайта|мегабайт", GB="гигабайт|гигабайта|гигабайт",
    TB="терабайт|терабайта|терабайт", GHz="гигагерц|гигагерца|гигагерц",
    W="ватт|ватта|ватт", kW="киловатт|киловатта|киловатт", V="вольт|вольта|вольт",
    ms="миллисекунда|миллисекунды|миллисекунд", min="минута|минуты|минут",
    h="час|часа|часов", m2="квадратный метр|квадратных метра|квадратных метров",
)  # fmt: skip
_RU_UNITS.update(
    {  # the Cyrillic abbreviations, too
        "км": _RU_UNITS["km"],
        "м": _RU_UNITS["m"],
        "см": _RU_UNITS["cm"],
        "мм": _RU_UNITS["mm"],
        "кг": _RU_UNITS["kg"],
        "г": _RU_UNITS["g"],
        "л": _RU_UNITS["l"],
        "мл": _RU_UNITS["ml"],
        "км/ч": _RU_UNITS["km/h"],
        "ч": _RU_UNITS["h"],
        "мин": _RU_UNITS["min"],
        "ГБ": _RU_UNITS["GB"],
        "МБ": _RU_UNITS["MB"],
        "кВт": _RU_UNITS["kW"],
        "Вт": _RU_UNITS["W"],
    }
)
_KO_UNITS = _u(
    km="킬로미터", m="미터", cm="센티미터", mm="밀리미터", kg="킬로그램", g="그램",
    mg="밀리그램", l="리터", ml="밀리리터", km_h="킬로미터 매 시", deg_C="도", deg_F="화씨 도",
    KB="킬로바이트", MB="메가바이트", GB="기가바이트", TB="테라바이트", Hz="헤르츠",
    GHz="기가헤르츠", MHz="메가헤르츠", W="와트", kW="킬로와트", V="볼트", ms="밀리초",
    m2="제곱미터",
)  # fmt: skip
_JA_UNITS = _u(
    km="キロメートル", m="メートル", cm="センチメートル", mm="ミリメートル", kg="キログラム",
    g="グラム", mg="ミリグラム", l="リットル", ml="ミリリットル", km_h="キロメートル毎時",
    deg_C="度", deg_F="華氏度", KB="キロバイト", MB="メガバイト", GB="ギガバイト",
    TB="テラバイト", Hz="ヘルツ", GHz="ギガヘルツ", MHz="メガヘルツ", W="ワット",
    kW="キロワット", V="ボルト", ms="ミリ秒", m2="平方メートル",
)  # fmt: skip

_EN_MONTHS = "January February March April May June July August September October November December"
_ROMAN_EN = frozenset(
    [
        "war",
        "chapter",
        "part",
        "volume",
        "vol",
        "act",
        "phase",
        "book",
        "section",
        "episode",
        "season",
        "level",
        "stage",
        "type",
        "class",
        "grade",
        "article",
        "world",
    ]
)

LEXICONS: dict[str, Lexicon] = {
    "en": Lexicon(
        percent="percent", range_word="to", plus="plus", at="at", dot="dot", and_word="and",
        months=tuple(_EN_MONTHS.split()), units=_EN_UNITS,
        currencies={"EUR": ("euro", "euros"), "KRW": ("won", "won"), "JPY": ("yen", "yen"), "INR": ("rupee", "rupees"),
                    "RUB": ("ruble", "rubles")},
        abbreviations={"Dr.": "Doctor", "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz",
                       "Prof.": "Professor", "vs.": "versus", "etc.": "et cetera.",
                       "approx.": "approximately", "e.g.": "for example", "i.e.": "that is",
                       "Jr.": "Junior", "Sr.": "Senior"},
        roman_counts=_ROMAN_EN,
        year_words=tuple(["in", "since", "by", "from", "until", "till", "of", "year", "circa", "around", "before", "after", "during"]),
    ),
    "de": Lexicon(
        decimal=",", percent="Prozent", range_word="bis", plus="plus", at="at", dot="Punkt",
        and_word="und",
        months=tuple(["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]),
        units=_DE_UNITS,
        abbreviations={"z.B.": "zum Beispiel", "z. B.": "zum Beispiel", "usw.": "und so weiter.",
                       "bzw.": "beziehungsweise", "ca.": "circa", "d.h.": "das heißt",
                       "d. h.": "das heißt", "Nr.": "Nummer", "Dr.": "Doktor", "Hr.": "Herr",
                       "Fr.": "Frau", "evtl.": "eventuell", "inkl.": "inklusive"},
        roman_counts=frozenset(["weltkrieg", "kapitel", "teil", "band", "akt"]),
        year_words=("im", "Jahr", "Jahre", "seit", "bis", "von", "ab", "vor", "nach"),
    ),
    "fr": Lexicon(
        decimal=",", space_groups=True, percent="pour cent", range_word="à", plus="plus",
        at="arobase", dot="point", and_word="et",
        months=tuple(["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]),
        units=_FR_UNITS,
        abbreviations={"M.": "Monsieur", "Mme": "Madame", "Mlle": "Mademoiselle",
                       "Dr": "Docteur", "etc.": "et cetera.", "p. ex.": "par exemple",
                       "env.": "environ"},
        roman_counts=frozenset(["guerre", "chapitre", "partie", "tome", "acte"]),
    ),
    "es": Lexicon(
        decimal=",", percent="por ciento", range_word="a", plus="más", at="arroba",
        dot="punto", and_word="y",
        months=tuple(["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"]),
        units=_ES_UNITS,
        abbreviations={"Sr.": "señor", "Sra.": "señora", "Srta.": "señorita", "Dr.": "doctor",
                       "Dra.": "doctora", "Ud.": "usted", "Uds.": "ustedes",
                       "etc.": "etcétera.", "p. ej.": "por ejemplo", "aprox.": "aproximadamente"},
        roman_counts=frozenset(["guerra", "capítulo", "parte", "tomo", "acto", "siglo"]),
    ),
    "pt": Lexicon(
        decimal=",", percent="por cento", range_word="a", plus="mais", at="arroba",
        dot="ponto", and_word="e",
        months=tuple(["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"]),
        units=_PT_UNITS, currencies={"BRL": ("real", "reais")},
        abbreviations={"Sr.": "senhor", "Sra.": "senhora", "Dr.": "doutor", "Dra.": "doutora",
                       "etc.": "etcétera.", "p. ex.": "por exemplo", "aprox.": "aproximadamente"},
        roman_counts=frozenset(["guerra", "capítulo", "parte", "tomo", "ato", "século"]),
    ),
    "it": Lexicon(
        decimal=",", percent="per cento", range_word="a", plus="più", at="chiocciola",
        dot="punto", and_word="e",
        months=tuple(["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"]),
        units=_IT_UNITS,
        abbreviations={"Sig.": "signor", "Sig.ra": "signora", "Dott.": "dottor",
                       "ecc.": "eccetera.", "ad es.": "ad esempio", "Prof.": "professor"},
        roman_counts=frozenset(["guerra", "capitolo", "parte", "tomo", "atto", "secolo"]),
    ),
    "ru": Lexicon(
        decimal=",", space_groups=True, percent="процент|процента|процентов", range_word="-",
        plus="плюс", at="собака", dot="точка", and_word="и",
        months=tuple(["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"]),
        units=_RU_UNITS,
        currencies={"RUB": ("рубль", "рубля", "рублей")},
        abbreviations={"т.е.": "то есть", "т. е.": "то есть", "т.д.": "так далее.",
                       "т. д.": "так далее.", "т.п.": "тому подобное.", "т.к.": "так как",
                       "др.": "другие."},
        roman_counts=frozenset(["война", "глава", "часть", "том"]),
    ),
    "ko": Lexicon(
        percent="퍼센트", range_word="에서", plus="플러스", at="골뱅이", dot="점",
        and_word="그리고", units=_KO_UNITS,
        currencies={"USD": ("달러",), "EUR": ("유로",), "GBP": ("파운드",), "JPY": ("엔",),
                    "KRW": ("원",), "RUB": ("루블",), "INR": ("루피",)},
    ),
    "ja": Lexicon(
        percent="パーセント", range_word="から", plus="プラス", at="アットマーク", dot="ドット",
        and_word="アンド", units=_JA_UNITS,
        currencies={"USD": ("ドル",), "EUR": ("ユーロ",), "GBP": ("ポンド",), "JPY": ("円",),
                    "KRW": ("ウォン",), "RUB": ("ルーブル",), "INR": ("ルピー",)},
    ),
    # Numbers (num2words) and percent only, in the rest of the languages.
    "ar": Lexicon(percent="بالمئة"),
    "cs": Lexicon(decimal=",", space_groups=True, percent="procent", plus="plus"),
    "da": Lexicon(decimal=",", percent="procent", plus="plus"),
    "fi": Lexicon(decimal=",", space_groups=True, percent="prosenttia", plus="plus"),
    "hu": Lexicon(decimal=",", space_groups=True, percent="százalék", plus="plusz"),
    "id": Lexicon(decimal=",", percent="persen", plus="plus"),
    "lt": Lexicon(decimal=",", space_groups=True, percent="procentų", plus="plius"),
    "lv": Lexicon(decimal=",", space_groups=True, percent="procenti", plus="plus"),
    "nl": Lexicon(decimal=",", percent="procent", range_word="tot", plus="plus", and_word="en"),
    "pl": Lexicon(decimal=",", space_groups=True, percent="procent", plus="plus"),
    "ro": Lexicon(decimal=",", percent="la sută", plus="plus"),
    "sk": Lexicon(decimal=",", space_groups=True, percent="percent", plus="plus"),
    "sl": Lexicon(decimal=",", percent="odstotkov", plus="plus"),
    "sv": Lexicon(decimal=",", space_groups=True, percent="procent", plus="plus"),
    "tr": Lexicon(decimal=",", percent="yüzde", percent_first=True, plus="artı"),
    "uk": Lexicon(decimal=",", space_groups=True, percent="відсотків", plus="плюс"),
    "vi": Lexicon(decimal=",", percent="phần trăm", plus="cộng"),
    # No number words in num2words: markup, pauses and emoji only, numbers stay digits.
    "bg": Lexicon(decimal=",", space_groups=True),
    "el": Lexicon(decimal=","),
    "et": Lexicon(decimal=",", space_groups=True),
    "hi": Lexicon(),
    "hr": Lexicon(decimal=","),
    "na": Lexicon(),
}  # fmt: skip
