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
    #: written scale after a number ("1.5M", "10k", "3 Mio.") → its power of ten and forms
    scales: dict[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)
    #: "1/2", "3/4": the common fractions, spoken
    fractions: dict[tuple[int, int], str] = field(default_factory=dict)
    times: tuple[str, ...] = ()  # "2x faster": two <times>
    by: str | None = None  # "1920x1080": <by>
    out_of: str | None = None  # "4.5/5", "9/10": nine <out of> ten
    about: str | None = None  # "~50": <about> fifty
    number_sign: str | None = None  # "#1": <number> one


def _u(**forms: str) -> dict[str, tuple[str, ...]]:
    """Unit forms written ``km="kilometer|kilometers"``; keys use ``_`` for ``/`` and ``°``."""
    keys = {"km_h": "km/h", "deg_C": "°C", "deg_F": "°F", "m2": "m²", "m3": "m³", "deg": "°"}
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
    m2="square meter|square meters", deg="degree|degrees", s="second|seconds",
    sec="second|seconds", secs="second|seconds", mins="minute|minutes", hr="hour|hours",
    hrs="hour|hours",
)  # fmt: skip
_DE_UNITS = _u(
    km="Kilometer", m="Meter", cm="Zentimeter", mm="Millimeter", kg="Kilogramm", g="Gramm",
    mg="Milligramm", l="Liter", ml="Milliliter", km_h="Kilometer pro Stunde",
    deg_C="Grad Celsius", deg_F="Grad Fahrenheit", KB="Kilobyte", MB="Megabyte",
    GB="Gigabyte", TB="Terabyte", Hz="Hertz", kHz="Kilohertz", MHz="Megahertz",
    GHz="Gigahertz", W="Watt", kW="Kilowatt", kWh="Kilowattstunden", V="Volt",
    ms="Millisekunden", min="Minuten", h="Stunden", m2="Quadratmeter", deg="Grad",
    s="Sekunde|Sekunden", Sek="Sekunde|Sekunden", Min="Minute|Minuten", Std="Stunde|Stunden",
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
    deg="degré|degrés", s="seconde|secondes", sec="seconde|secondes",
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
    m2="metro cuadrado|metros cuadrados", deg="grado|grados", s="segundo|segundos",
    seg="segundo|segundos",
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
    deg="grau|graus", s="segundo|segundos", seg="segundo|segundos",
)  # fmt: skip
_IT_UNITS = _u(
    km="chilometro|chilometri", m="metro|metri", cm="centimetro|centimetri",
    mm="millimetro|millimetri", kg="chilogrammo|chilogrammi", g="grammo|grammi",
    mg="milligrammo|milligrammi", l="litro|litri", ml="millilitro|millilitri",
    km_h="chilometro orario|chilometri orari", deg_C="grado Celsius|gradi Celsius",
    deg_F="grado Fahrenheit|gradi Fahrenheit", KB="kilobyte", MB="megabyte", GB="gigabyte",
    TB="terabyte", Hz="hertz", kHz="kilohertz", MHz="megahertz", GHz="gigahertz", W="watt",
    kW="kilowatt", V="volt", ms="millisecondo|millisecondi", min="minuto|minuti",
    h="ora|ore", m2="metro quadrato|metri quadrati", deg="grado|gradi",
    s="secondo|secondi", sec="secondo|secondi",
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
    deg="градус|градуса|градусов", s="секунда|секунды|секунд",
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
        "с": _RU_UNITS["s"],
        "сек": _RU_UNITS["s"],
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
    m2="제곱미터", deg="도",
)  # fmt: skip
_JA_UNITS = _u(
    km="キロメートル", m="メートル", cm="センチメートル", mm="ミリメートル", kg="キログラム",
    g="グラム", mg="ミリグラム", l="リットル", ml="ミリリットル", km_h="キロメートル毎時",
    deg_C="度", deg_F="華氏度", KB="キロバイト", MB="メガバイト", GB="ギガバイト",
    TB="テラバイト", Hz="ヘルツ", GHz="ギガヘルツ", MHz="メガヘルツ", W="ワット",
    kW="キロワット", V="ボルト", ms="ミリ秒", m2="平方メートル", deg="度",
)  # fmt: skip


def _scales(
    thousand: str, million: str, billion: str, **written: str
) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Scale words after a number: ``k K M B bn`` everywhere (LLMs write them in every
    language) and the language's own abbreviations (``Mio="million"``), forms as units'."""
    scales = {
        "thousand": (3, tuple(thousand.split("|"))),
        "million": (6, tuple(million.split("|"))),
        "billion": (9, tuple(billion.split("|"))),
    }
    table = {"k": "thousand", "K": "thousand", "M": "million", "B": "billion", "bn": "billion"}
    table.update(written)
    return {key: scales[scale] for key, scale in table.items()}


def _fractions(
    half: str, third: str, thirds: str, quarter: str, quarters: str
) -> dict[tuple[int, int], str]:
    """The common fractions a recipe or a rating writes (``1/2``, ``3/4``), spoken."""
    return {(1, 2): half, (1, 3): third, (2, 3): thirds, (1, 4): quarter, (3, 4): quarters}


_TR_UNITS = _u(
    km="kilometre", m="metre", cm="santimetre", mm="milimetre", kg="kilogram", g="gram",
    mg="miligram", l="litre", ml="mililitre", deg_C="derece",
    deg_F="derece Fahrenhayt", deg="derece", KB="kilobayt", MB="megabayt", GB="gigabayt",
    TB="terabayt", Hz="hertz", GHz="gigahertz", W="vat", kW="kilovat", V="volt",
    ms="milisaniye", s="saniye", sn="saniye", dk="dakika", sa="saat", m2="metrekare",
)  # fmt: skip

#: Turkish nouns stay singular after a number; two forms so "12,50 ₺" is "on iki lira elli".
_TR_CURRENCIES = {
    code: (name, name)
    for code, name in {"TRY": "lira", "USD": "dolar", "EUR": "avro", "GBP": "sterlin"}.items()
}

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
        "bowl",
        "wrestlemania",
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
        scales=_scales("thousand", "million", "billion"),
        fractions=_fractions("one half", "one third", "two thirds", "one quarter", "three quarters"),
        times=("time", "times"), by="by", out_of="out of", about="about", number_sign="number",
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
        scales=_scales("tausend", "Million|Millionen", "Milliarde|Milliarden", Tsd="thousand",
                       Mio="million", Mrd="billion"),
        fractions=_fractions("ein halb", "ein Drittel", "zwei Drittel", "ein Viertel", "drei Viertel"),
        times=("mal",), by="mal", out_of="von", about="etwa", number_sign="Nummer",
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
        scales=_scales("mille", "million|millions", "milliard|milliards", Md="billion",
                       Mds="billion"),
        fractions=_fractions("un demi", "un tiers", "deux tiers", "un quart", "trois quarts"),
        times=("fois",), by="par", out_of="sur", about="environ", number_sign="numéro",
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
        scales=_scales("mil", "millón|millones", "mil millones"),
        fractions=_fractions("un medio", "un tercio", "dos tercios", "un cuarto", "tres cuartos"),
        times=("vez", "veces"), by="por", out_of="de", about="aproximadamente",
        number_sign="número",
    ),
    "pt": Lexicon(
        decimal=",", percent="por cento", range_word="a", plus="mais", at="arroba",
        dot="ponto", and_word="e",
        months=tuple(["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"]),
        units=_PT_UNITS, currencies={"BRL": ("real", "reais")},
        abbreviations={"Sr.": "senhor", "Sra.": "senhora", "Dr.": "doutor", "Dra.": "doutora",
                       "etc.": "etcétera.", "p. ex.": "por exemplo", "aprox.": "aproximadamente"},
        roman_counts=frozenset(["guerra", "capítulo", "parte", "tomo", "ato", "século"]),
        scales=_scales("mil", "milhão|milhões", "bilhão|bilhões", mi="million", bi="billion"),
        fractions=_fractions("um meio", "um terço", "dois terços", "um quarto", "três quartos"),
        times=("vez", "vezes"), by="por", out_of="de", about="cerca de", number_sign="número",
    ),
    "it": Lexicon(
        decimal=",", percent="per cento", range_word="a", plus="più", at="chiocciola",
        dot="punto", and_word="e",
        months=tuple(["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"]),
        units=_IT_UNITS,
        abbreviations={"Sig.": "signor", "Sig.ra": "signora", "Dott.": "dottor",
                       "ecc.": "eccetera.", "ad es.": "ad esempio", "Prof.": "professor"},
        roman_counts=frozenset(["guerra", "capitolo", "parte", "tomo", "atto", "secolo"]),
        scales=_scales("mila", "milione|milioni", "miliardo|miliardi", mln="million",
                       mld="billion"),
        fractions=_fractions("un mezzo", "un terzo", "due terzi", "un quarto", "tre quarti"),
        times=("volta", "volte"), by="per", out_of="su", about="circa", number_sign="numero",
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
        scales=_scales("тысяча|тысячи|тысяч", "миллион|миллиона|миллионов",
                       "миллиард|миллиарда|миллиардов", тыс="thousand", млн="million",
                       млрд="billion"),
        fractions=_fractions("одна вторая", "одна треть", "две трети", "одна четверть",
                             "три четверти"),
        times=("раз", "раза", "раз"), by="на", out_of="из", about="примерно", number_sign="номер",
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
    "tr": Lexicon(
        decimal=",", percent="yüzde", percent_first=True, range_word="ile", plus="artı",
        at="et", dot="nokta", and_word="ve",
        months=tuple(["Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"]),
        units=_TR_UNITS, currencies=_TR_CURRENCIES,
        abbreviations={"vb.": "ve benzeri", "vs.": "vesaire", "Dr.": "Doktor", "Prof.": "Profesör"},
        scales=_scales("bin", "milyon", "milyar", Mn="million", Mr="billion"),
        times=("kat",), by="çarpı", out_of="üzerinden", about="yaklaşık", number_sign="numara",
    ),
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
