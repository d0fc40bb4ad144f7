"""The synthesis request: every option, its default, its range, and how a bad value is told.

This is the one definition. The HTTP body, the WebSocket ``config``, the server's flags
and variables, the Supertone and Wyoming mappings and both plugins derive their fields,
defaults and checks from :class:`SynthesisOptions` (the whole request, defaults filled)
and :data:`SynthesisOverrides` (the same fields, each optional: "not given" is None).
Adding an option means adding a field here, and a test.

Errors name the option, the value and what is accepted, in the same words wherever the
value came from (a flag, a JSON body, a WebSocket message, a plugin argument): a
:class:`pydantic.ValidationError` is turned into :class:`~.errors.InvalidOptionError` by
:func:`option_error`, which the server's validation handler uses too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from .errors import ErrorCode, InvalidOptionError, LexiconError, quote_value
from .pronunciation import MAX_ALIAS_CHARS, MAX_INLINE_ENTRIES, MAX_KEY_CHARS, entry

SPEED_RANGE = (0.5, 2.0)
STEPS_RANGE = (1, 32)
Emoji = Literal["remove", "name"]
EMOJI_CHOICES: tuple[str, ...] = get_args(Emoji)
#: Names a client may use for an option, besides its own.
ALIASES = {"steps": "total_steps"}

NOT_UNICODE = (
    "is not valid Unicode: it holds a lone surrogate (a JSON \\uD800-\\uDFFF escape must be "
    "one of a pair)"
)


def _unicode(value: str | None) -> str | None:
    try:
        if value is not None:  # optional in SynthesisOverrides
            value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("supertonic_invalid_unicode", "not valid Unicode") from None
    return value


#: A string option: strict (no number or boolean turned into text) and valid Unicode (JSON
#: can carry a lone surrogate, which no reply, log or model input can encode).
Text = Annotated[str, Field(strict=True), AfterValidator(_unicode)]


def _respellings(value: dict[str, str] | None) -> dict[str, str] | None:
    """Each inline entry checked as a dictionary's would be (whitespace, lengths); the
    error's type is ``supertonic_`` and its :class:`ErrorCode`, its text the whole message,
    as the server's validation handler expects of our own errors."""
    for written, spoken in (value or {}).items():
        try:
            entry(written, spoken, source="pronunciations")
        except LexiconError as exc:
            problem = str(exc).removeprefix("pronunciation dictionary ")
            raise PydanticCustomError(RESPELLING_ERROR, problem) from None
    return value


RESPELLING_ERROR = f"supertonic_{ErrorCode.INVALID_VALUE}"


Written = Annotated[Text, Field(min_length=1, max_length=MAX_KEY_CHARS)]
Spoken = Annotated[Text, Field(min_length=1, max_length=MAX_ALIAS_CHARS)]


class SynthesisOptions(BaseModel):
    """How one request is spoken; immutable (``model_copy(update=...)`` derives another).

    Build a checked one with :meth:`checked` (errors as :class:`InvalidOptionError`);
    ``Engine.options`` also resolves the voice and the language against the model.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    voice: Text = Field(
        "F1",
        description="Preset (F1-F5, M1-M5), OpenAI name (alloy, ash, ...), custom voice, or "
        "blend like 'F1*0.7+M2*0.3'.",
    )
    lang: Text = Field(
        "en", description="Language code (31 languages, or 'na' for the language-neutral tag)."
    )
    speed: float = Field(
        1.05,
        strict=True,
        ge=SPEED_RANGE[0],
        le=SPEED_RANGE[1],
        description="Speaking rate, 0.5..2.0; 1.0 is the model's natural pace.",
    )
    steps: int = Field(
        8,
        strict=True,
        ge=STEPS_RANGE[0],
        le=STEPS_RANGE[1],
        validation_alias=AliasChoices("steps", ALIASES["steps"]),
        description="Flow-matching steps, 1..32; fewer is faster, 8 is the reference's.",
    )
    first_chunk_steps: int | None = Field(
        4,
        strict=True,
        ge=STEPS_RANGE[0],
        le=STEPS_RANGE[1],
        description="Steps for the first chunk of each stream only ('fast start'), 1..32: "
        "the first audio comes sooner, the first phrase is slightly less expressive. Never "
        "more than steps, which turns it off.",
    )
    seed: int | None = Field(
        None, strict=True, ge=0, description="Makes the audio reproducible; none draws a fresh one."
    )
    normalize: bool = Field(
        True,
        strict=True,
        description="Read the text the way a person would (numbers, currency, dates, times, "
        "units, markdown, URLs, [pause:500ms] and <break/> tags); false sends it as written.",
    )
    emoji: Emoji = Field(
        "remove",
        description="With normalize: drop emoji, or read their names where the language has them.",
    )
    detect_lang: bool = Field(
        False,
        strict=True,
        description="Give each sentence the language detected for it where the detector is "
        "sure, lang where it is not (lang 'auto' turns this on).",
    )
    lexicons: tuple[Text, ...] | None = Field(
        None,
        description="With normalize: the server's pronunciation dictionaries to apply, by name "
        "(each --lexicon file's name without its extension), the first winning where two give "
        "a word; null: every one the server loaded; []: none.",
    )
    pronunciations: Annotated[dict[Written, Spoken] | None, AfterValidator(_respellings)] = Field(
        None,
        max_length=MAX_INLINE_ENTRIES,
        description="With normalize: respellings of this request, written form to what to say "
        f"({{'SQL': 'sequel', 'Nguyen': 'Win'}}), in every language, before the dictionaries; "
        f"at most {MAX_INLINE_ENTRIES}, written forms up to {MAX_KEY_CHARS} characters.",
    )

    @classmethod
    def checked(cls, **values: Any) -> SynthesisOptions:
        """Options from ``values`` (None: the default), or :class:`InvalidOptionError`."""
        return _checked(cls, {k: v for k, v in values.items() if v is not None})

    def merged(self, overrides: BaseModel | dict[str, Any]) -> SynthesisOptions:
        """These options with every value ``overrides`` gives (None: keep), checked."""
        given = overrides if isinstance(overrides, dict) else overrides.model_dump()
        update = {k: v for k, v in given.items() if v is not None}
        return _checked(type(self), {**self.model_dump(), **update})


OPTION_NAMES: tuple[str, ...] = tuple(SynthesisOptions.model_fields)


def optional_fields() -> dict[str, Any]:
    """The option fields, each optional (None: not given), keeping their checks, aliases and
    descriptions: what a model of a request that may leave options out is built from."""
    fields: dict[str, Any] = {}
    for name, info in SynthesisOptions.model_fields.items():
        optional = FieldInfo.merge_field_infos(info, default=None)
        fields[name] = (info.annotation | None, optional)
    return fields


#: A request's options as a client gives them: each may be left out (None).
SynthesisOverrides = create_model(
    "SynthesisOverrides",
    __config__=ConfigDict(frozen=True, extra="forbid", populate_by_name=True),
    **optional_fields(),
)


def _checked(model: type[SynthesisOptions], values: dict[str, Any]) -> SynthesisOptions:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise option_error(exc.errors()[0], model) from None


def expected(name: str, model: type[BaseModel] = SynthesisOptions) -> str:
    """What option ``name`` accepts, in words: ``a number between 0.5 and 2.0``."""
    info = model.model_fields[name]
    lo = hi = None
    for rule in info.metadata:
        lo = getattr(rule, "ge", lo)
        hi = getattr(rule, "le", hi)
    annotation = str(info.annotation)
    if "dict" in annotation:
        return (
            f"an object of written: spoken forms or null (at most {MAX_INLINE_ENTRIES} entries; "
            f"written forms of 1 to {MAX_KEY_CHARS} characters, spoken ones of 1 to "
            f"{MAX_ALIAS_CHARS})"
        )
    if "tuple" in annotation:
        return "a list of dictionary names or null"
    if "Literal" in annotation:
        choices = annotation.split("[", 1)[1].rstrip("]").replace("'", "")
        return f"one of {choices}"
    if "bool" in annotation:
        return "true or false"
    if "str" in annotation:
        return "a string"
    kind = "a number" if "float" in annotation else "an integer"
    if lo is not None and hi is not None:
        words = f"{kind} between {lo} and {hi}"
    elif lo == 0:
        words = f"a non-negative {kind.removeprefix('an ').removeprefix('a ')}"
    else:
        words = kind
    return f"{words} or null" if "None" in annotation else words


def option_error(error: Any, model: type[BaseModel] = SynthesisOptions) -> InvalidOptionError:
    """The :class:`InvalidOptionError` of one pydantic error about an option."""
    canonical = {alias: option for option, alias in ALIASES.items()}
    loc = [str(p) for p in error.get("loc", ())]
    given = next((p for p in loc if p in model.model_fields or p in canonical), None)
    name = given or (loc[0] if loc else "options")  # as the client spelled it
    field = canonical.get(name, name)
    value = error.get("input")
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        accepted = ", ".join(model.model_fields)
        return InvalidOptionError(
            name, value, "", message=f"unknown option {quote_value(name)}; options: {accepted}"
        )
    if field not in model.model_fields:
        return InvalidOptionError(name, value, str(error.get("msg", "valid")))
    if kind.endswith("_unicode"):
        return InvalidOptionError(name, value, "valid Unicode (no lone surrogate)")
    if kind == RESPELLING_ERROR:
        return InvalidOptionError(name, value, "", message=str(error.get("msg")))
    words = expected(field, model)
    ctx = error.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal") and " between " in words:
        words = "between " + words.split(" between ", 1)[1].removesuffix(" or null")
    elif "ge" in ctx or "le" in ctx:
        words = words.removesuffix(" or null")
    return InvalidOptionError(name, value, words)
