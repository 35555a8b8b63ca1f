"""Discord's payload limits, enforced the way Discord reports them.

Every validator returns an ``errors`` dict in Discord's nested form (``{"content": {"_errors":
[{"code": ..., "message": ...}]}}``) -- empty when the payload is fine. The server turns a
non-empty dict into ``400 {"code": 50035, "message": "Invalid Form Body", "errors": ...}``.
"""

from __future__ import annotations

import re
from typing import Any

from .records import FLAG_COMPONENTS_V2, walk_components

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
ROW_WIDTH_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
SELECT_PLACEHOLDER_MAX = 150
SELECT_OPTION_TEXT_MAX = 100
V2_COMPONENTS_MAX = 40
NONCE_MAX = 25
MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_VALUE_MAX = 4000
AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_VALUE_MAX = 100
COMMAND_NAME_RE = re.compile(r"^[-_\w]{1,32}$", re.UNICODE)
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMAND_TOTAL_TEXT_MAX = 4000
CHAT_INPUT_COMMANDS_MAX = 100
CONTEXT_MENU_COMMANDS_MAX = 5

Errors = dict[str, Any]


def error(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


def too_long(limit: int) -> dict[str, Any]:
    return error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def bad_length(low: int, high: int) -> dict[str, Any]:
    return error("BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def required() -> dict[str, Any]:
    return error("BASE_TYPE_REQUIRED", "This field is required")


def _set(errors: Errors, path: list[str], value: dict[str, Any]) -> None:
    node = errors
    for key in path[:-1]:
        node = node.setdefault(key, {})
    leaf = node.setdefault(path[-1], {})
    if "_errors" in value and "_errors" in leaf:
        leaf["_errors"].extend(value["_errors"])
    else:
        leaf.update(value)


def _len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------


def embed_text_length(embed: dict[str, Any]) -> int:
    total = _len(embed.get("title")) + _len(embed.get("description"))
    for f in embed.get("fields") or []:
        total += _len(f.get("name")) + _len(f.get("value"))
    total += _len((embed.get("footer") or {}).get("text"))
    total += _len((embed.get("author") or {}).get("name"))
    return total


def validate_embeds(embeds: list[dict[str, Any]], errors: Errors) -> None:
    if len(embeds) > EMBEDS_MAX:
        _set(errors, ["embeds"], too_long(EMBEDS_MAX))
    total = 0
    for i, embed in enumerate(embeds):
        at = ["embeds", str(i)]
        if _len(embed.get("title")) > EMBED_TITLE_MAX:
            _set(errors, [*at, "title"], too_long(EMBED_TITLE_MAX))
        if _len(embed.get("description")) > EMBED_DESCRIPTION_MAX:
            _set(errors, [*at, "description"], too_long(EMBED_DESCRIPTION_MAX))
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            _set(errors, [*at, "fields"], too_long(EMBED_FIELDS_MAX))
        for j, f in enumerate(fields):
            for key, limit in (("name", EMBED_FIELD_NAME_MAX), ("value", EMBED_FIELD_VALUE_MAX)):
                value = f.get(key)
                if not isinstance(value, str) or not value:
                    _set(errors, [*at, "fields", str(j), key], required())
                elif len(value) > limit:
                    _set(errors, [*at, "fields", str(j), key], too_long(limit))
        if _len((embed.get("footer") or {}).get("text")) > EMBED_FOOTER_MAX:
            _set(errors, [*at, "footer", "text"], too_long(EMBED_FOOTER_MAX))
        if _len((embed.get("author") or {}).get("name")) > EMBED_AUTHOR_MAX:
            _set(errors, [*at, "author", "name"], too_long(EMBED_AUTHOR_MAX))
        total += embed_text_length(embed)
    if total > EMBED_TOTAL_MAX:
        _set(
            errors,
            ["embeds"],
            error(
                "MAX_EMBED_SIZE_EXCEEDED",
                f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
            ),
        )


def _validate_interactive(component: dict[str, Any], at: list[str], errors: Errors) -> None:
    ctype = component.get("type")
    custom_id = component.get("custom_id")
    if custom_id is not None and _len(custom_id) > CUSTOM_ID_MAX:
        _set(errors, [*at, "custom_id"], too_long(CUSTOM_ID_MAX))
    if ctype == 2:  # button
        if _len(component.get("label")) > BUTTON_LABEL_MAX:
            _set(errors, [*at, "label"], too_long(BUTTON_LABEL_MAX))
        style = component.get("style")
        if style == 5:
            if not component.get("url"):
                _set(errors, [*at, "url"], required())
        elif style == 6:
            if not component.get("sku_id"):
                _set(errors, [*at, "sku_id"], required())
        elif not custom_id:
            _set(
                errors,
                [*at, "custom_id"],
                error(
                    "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
                    "A custom id is required",
                ),
            )
    elif ctype in (3, 5, 6, 7, 8):  # selects
        if not custom_id:
            _set(errors, [*at, "custom_id"], required())
        if _len(component.get("placeholder")) > SELECT_PLACEHOLDER_MAX:
            _set(errors, [*at, "placeholder"], too_long(SELECT_PLACEHOLDER_MAX))
        if ctype == 3:
            options = component.get("options") or []
            if not 1 <= len(options) <= SELECT_OPTIONS_MAX:
                _set(errors, [*at, "options"], bad_length(1, SELECT_OPTIONS_MAX))
            for k, option in enumerate(options):
                for key in ("label", "value", "description"):
                    if _len(option.get(key)) > SELECT_OPTION_TEXT_MAX:
                        _set(
                            errors, [*at, "options", str(k), key], too_long(SELECT_OPTION_TEXT_MAX)
                        )
        for key in ("min_values", "max_values"):
            value = component.get(key)
            if value is not None and not 0 <= int(value) <= SELECT_OPTIONS_MAX:
                _set(
                    errors,
                    [*at, key],
                    error(
                        "NUMBER_TYPE_MAX",
                        f"int value should be less than or equal to {SELECT_OPTIONS_MAX}.",
                    ),
                )


def validate_components(components: list[dict[str, Any]], flags: int, errors: Errors) -> None:
    seen: set[str] = set()
    for component in walk_components(components):
        custom_id = component.get("custom_id")
        if custom_id:
            if custom_id in seen:
                _set(
                    errors,
                    ["components"],
                    error(
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    ),
                )
            seen.add(custom_id)

    if flags & FLAG_COMPONENTS_V2:
        total = sum(1 for _ in walk_components(components))
        if total > V2_COMPONENTS_MAX:
            _set(errors, ["components"], too_long(V2_COMPONENTS_MAX))
        for i, component in enumerate(components):
            _walk_validate(component, ["components", str(i)], errors)
        return

    if len(components) > ACTION_ROWS_MAX:
        _set(errors, ["components"], too_long(ACTION_ROWS_MAX))
    for i, row in enumerate(components):
        at = ["components", str(i)]
        if row.get("type") != 1:
            _set(
                errors,
                [*at, "type"],
                error(
                    "UNION_TYPE_CHOICES",
                    'Value of field "type" must be one of (1,).',
                ),
            )
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= ROW_WIDTH_MAX:
            _set(errors, [*at, "components"], bad_length(1, ROW_WIDTH_MAX))
        width = sum(5 if c.get("type") in (3, 4, 5, 6, 7, 8) else 1 for c in children)
        if children and width > ROW_WIDTH_MAX:
            _set(
                errors,
                [*at, "components"],
                error(
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                ),
            )
        for j, child in enumerate(children):
            _validate_interactive(child, [*at, "components", str(j)], errors)


def _walk_validate(component: dict[str, Any], at: list[str], errors: Errors) -> None:
    _validate_interactive(component, at, errors)
    for j, child in enumerate(component.get("components") or []):
        _walk_validate(child, [*at, "components", str(j)], errors)
    for key in ("accessory", "component"):
        child = component.get(key)
        if isinstance(child, dict):
            _walk_validate(child, [*at, key], errors)


def validate_message(payload: dict[str, Any], errors: Errors | None = None) -> Errors:
    """Limits on a message create/edit payload (channel message, callback data, webhook)."""
    errors = {} if errors is None else errors
    content = payload.get("content")
    flags = int(payload.get("flags") or 0)
    if content is not None:
        if not isinstance(content, str):
            _set(errors, ["content"], error("BASE_TYPE_STRING", "Must be a string."))
        elif len(content) > CONTENT_MAX:
            _set(errors, ["content"], too_long(CONTENT_MAX))
    embeds = payload.get("embeds")
    if embeds:
        validate_embeds(embeds, errors)
    components = payload.get("components")
    if components:
        validate_components(components, flags, errors)
    if flags & FLAG_COMPONENTS_V2:
        for key in ("content", "embeds"):
            if payload.get(key):
                _set(
                    errors,
                    [key],
                    error(
                        "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                        "The 'content' and 'embeds' fields cannot be used when using "
                        "MessageFlags.IS_COMPONENTS_V2",
                    ),
                )
    nonce = payload.get("nonce")
    if isinstance(nonce, str) and len(nonce) > NONCE_MAX:
        _set(errors, ["nonce"], too_long(NONCE_MAX))
    return errors


def is_empty_message(payload: dict[str, Any], has_files: bool) -> bool:
    return not (
        payload.get("content")
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or has_files
    )


# --------------------------------------------------------------------------------------------
# Interaction callbacks other than messages
# --------------------------------------------------------------------------------------------


def validate_choices(choices: list[dict[str, Any]], errors: Errors | None = None) -> Errors:
    errors = {} if errors is None else errors
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        _set(errors, ["choices"], too_long(AUTOCOMPLETE_CHOICES_MAX))
    for i, choice in enumerate(choices):
        name = choice.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= CHOICE_NAME_MAX:
            _set(errors, ["choices", str(i), "name"], bad_length(1, CHOICE_NAME_MAX))
        value = choice.get("value")
        if isinstance(value, str) and len(value) > CHOICE_VALUE_MAX:
            _set(errors, ["choices", str(i), "value"], too_long(CHOICE_VALUE_MAX))
    return errors


def validate_modal(modal: dict[str, Any], errors: Errors | None = None) -> Errors:
    errors = {} if errors is None else errors
    title = modal.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= MODAL_TITLE_MAX:
        _set(errors, ["title"], bad_length(1, MODAL_TITLE_MAX))
    custom_id = modal.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= CUSTOM_ID_MAX:
        _set(errors, ["custom_id"], bad_length(1, CUSTOM_ID_MAX))
    components = modal.get("components") or []
    if not 1 <= len(components) <= MODAL_COMPONENTS_MAX:
        _set(errors, ["components"], bad_length(1, MODAL_COMPONENTS_MAX))
    for i, component in enumerate(walk_components(components)):
        if component.get("type") == 4:
            at = ["components", str(i)]
            if _len(component.get("label")) > TEXT_INPUT_LABEL_MAX:
                _set(errors, [*at, "label"], too_long(TEXT_INPUT_LABEL_MAX))
            if _len(component.get("value")) > TEXT_INPUT_VALUE_MAX:
                _set(errors, [*at, "value"], too_long(TEXT_INPUT_VALUE_MAX))
            if _len(component.get("custom_id")) > CUSTOM_ID_MAX:
                _set(errors, [*at, "custom_id"], too_long(CUSTOM_ID_MAX))
        elif component.get("type") == 18 and _len(component.get("label")) > TEXT_INPUT_LABEL_MAX:
            _set(errors, ["components", str(i), "label"], too_long(TEXT_INPUT_LABEL_MAX))
    return errors


# --------------------------------------------------------------------------------------------
# Application commands
# --------------------------------------------------------------------------------------------


def _command_text(command: dict[str, Any]) -> int:
    total = _len(command.get("name")) + _len(command.get("description"))
    for option in command.get("options") or []:
        total += _command_text(option)
    for choice in command.get("choices") or []:
        total += _len(choice.get("name")) + _len(str(choice.get("value", "")))
    return total


def _validate_options(options: list[dict[str, Any]], at: list[str], errors: Errors) -> None:
    if len(options) > COMMAND_OPTIONS_MAX:
        _set(errors, [*at, "options"], too_long(COMMAND_OPTIONS_MAX))
    seen_optional = False
    names: set[str] = set()
    for i, option in enumerate(options):
        oat = [*at, "options", str(i)]
        name = option.get("name")
        if not isinstance(name, str) or not COMMAND_NAME_RE.match(name) or name != name.lower():
            _set(
                errors,
                [*oat, "name"],
                error(
                    "APPLICATION_COMMAND_INVALID_NAME",
                    "Command name is invalid",
                ),
            )
        elif name in names:
            _set(
                errors,
                [*oat, "name"],
                error(
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Option name is already used",
                ),
            )
        names.add(str(name))
        description = option.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 100:
            _set(errors, [*oat, "description"], bad_length(1, COMMAND_DESCRIPTION_MAX))
        choices = option.get("choices") or []
        if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
            _set(errors, [*oat, "choices"], too_long(AUTOCOMPLETE_CHOICES_MAX))
        if choices and option.get("autocomplete"):
            _set(
                errors,
                [*oat, "autocomplete"],
                error(
                    "APPLICATION_COMMAND_OPTION_CHOICES_WITH_AUTOCOMPLETE",
                    "Autocomplete cannot be set on an option with choices",
                ),
            )
        if option.get("type") in (1, 2):
            _validate_options(option.get("options") or [], oat, errors)
            continue
        if option.get("required"):
            if seen_optional:
                _set(
                    errors,
                    [*oat, "required"],
                    error(
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    ),
                )
        else:
            seen_optional = True


def validate_commands(commands: list[dict[str, Any]]) -> Errors:
    errors: Errors = {}
    seen: set[tuple[int, str]] = set()
    counts = {1: 0, 2: 0, 3: 0}
    for i, command in enumerate(commands):
        at = [str(i)]
        ctype = int(command.get("type", 1))
        counts[ctype] = counts.get(ctype, 0) + 1
        name = command.get("name")
        valid_name = isinstance(name, str) and (
            (ctype == 1 and COMMAND_NAME_RE.match(name) and name == name.lower())
            or (ctype != 1 and 1 <= len(name) <= 32)
        )
        if not valid_name:
            _set(
                errors,
                [*at, "name"],
                error(
                    "APPLICATION_COMMAND_INVALID_NAME",
                    "Command name is invalid",
                ),
            )
        if (ctype, str(name)) in seen:
            _set(
                errors,
                [*at, "name"],
                error(
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique ({name})",
                ),
            )
        seen.add((ctype, str(name)))
        description = command.get("description")
        if ctype == 1:
            if not isinstance(description, str) or not 1 <= len(description) <= 100:
                _set(errors, [*at, "description"], bad_length(1, COMMAND_DESCRIPTION_MAX))
            _validate_options(command.get("options") or [], at, errors)
            if _command_text(command) > COMMAND_TOTAL_TEXT_MAX:
                _set(
                    errors,
                    at,
                    error(
                        "APPLICATION_COMMAND_TOO_LARGE",
                        f"Command exceeds maximum size ({COMMAND_TOTAL_TEXT_MAX})",
                    ),
                )
        elif description:
            _set(
                errors,
                [*at, "description"],
                error(
                    "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                    "Context menu commands cannot have description",
                ),
            )
    if counts.get(1, 0) > CHAT_INPUT_COMMANDS_MAX:
        _set(errors, ["_root"], too_long(CHAT_INPUT_COMMANDS_MAX))
    for ctype in (2, 3):
        if counts.get(ctype, 0) > CONTEXT_MENU_COMMANDS_MAX:
            _set(errors, ["_root"], too_long(CONTEXT_MENU_COMMANDS_MAX))
    return errors
