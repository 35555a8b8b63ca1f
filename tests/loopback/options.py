"""Build APPLICATION_COMMAND interaction ``data.options`` the way the Discord client does.

Given a command path ("launch add") and plain Python values, produce the nested
SUB_COMMAND_GROUP / SUB_COMMAND / value options with the right option types, using the
schema the bot registered when there is one, or explicit/inferred types when there is not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11

TYPE_NAMES = {
    "sub_command": SUB_COMMAND,
    "subcommand": SUB_COMMAND,
    "sub_command_group": SUB_COMMAND_GROUP,
    "group": SUB_COMMAND_GROUP,
    "string": STRING,
    "str": STRING,
    "integer": INTEGER,
    "int": INTEGER,
    "boolean": BOOLEAN,
    "bool": BOOLEAN,
    "user": USER,
    "member": USER,
    "channel": CHANNEL,
    "role": ROLE,
    "mentionable": MENTIONABLE,
    "number": NUMBER,
    "float": NUMBER,
    "attachment": ATTACHMENT,
    "file": ATTACHMENT,
}

# (option type, value) -> JSON value; may add to ``resolved``
Resolver = Callable[[int, Any, dict[str, dict[str, Any]]], Any]


class OptionError(ValueError):
    """The test asked for a command invocation the Discord client would not allow."""


def option_type(value: Any) -> int:
    """Normalise a type given as int, name ("string", "user", ...) or AppCommandOptionType."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return TYPE_NAMES[value.lower()]
        except KeyError:
            raise OptionError(f"unknown option type {value!r}") from None
    raise OptionError(f"unknown option type {value!r}")


def infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, bytes | bytearray | tuple):
        return ATTACHMENT
    raise OptionError(
        f"cannot infer the option type of {value!r}; pass types={{name: 'user' | 'channel' | ...}}"
    )


@dataclass
class BuiltOptions:
    options: list[dict[str, Any]]
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)
    leaf_schema: dict[str, Any] | None = None


def _coerce(otype: int, value: Any, name: str, focused: bool) -> Any:
    if focused:
        return "" if value is None else str(value)
    if otype == STRING:
        return value.value if isinstance(value, Enum) else str(value)
    if otype == INTEGER:
        if isinstance(value, bool):
            raise OptionError(f"option {name!r} is an integer, got {value!r}")
        return int(value.value if isinstance(value, Enum) else value)
    if otype == BOOLEAN:
        return bool(value)
    if otype == NUMBER:
        return value.value if isinstance(value, Enum) else value
    return value


def build_options(
    path: list[str],
    values: Mapping[str, Any],
    *,
    schema: dict[str, Any] | None,
    types: Mapping[str, Any] | None = None,
    focused: str | None = None,
    resolver: Resolver | None = None,
    strict: bool = True,
) -> BuiltOptions:
    """Options for ``path`` (without the top-level command name) with ``values``.

    schema: the registered top-level command (None when the bot did not sync through the
    server -- then types are taken from ``types`` or inferred from the Python values).
    focused: for autocomplete, the option being typed (its value is sent as a string).
    """
    types = {k: option_type(v) for k, v in (types or {}).items()}
    resolved: dict[str, dict[str, Any]] = {}
    qualified = " ".join([schema["name"]] if schema else []) or "<command>"

    # Walk down the subcommand path.
    leaf: dict[str, Any] | None = schema
    wrappers: list[dict[str, Any]] = []
    for depth, segment in enumerate(path):
        if leaf is not None:
            children = leaf.get("options") or []
            match = next(
                (
                    o
                    for o in children
                    if o.get("name") == segment
                    and o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)
                ),
                None,
            )
            if match is None:
                subs = [o["name"] for o in children if o.get("type") in (1, 2)]
                raise OptionError(f"/{qualified} has no subcommand {segment!r} (has {subs})")
            wrappers.append({"type": match["type"], "name": segment})
            leaf = match
        else:
            last = depth == len(path) - 1
            wrappers.append({"type": SUB_COMMAND if last else SUB_COMMAND_GROUP, "name": segment})
        qualified += f" {segment}"

    if leaf is not None and any(o.get("type") in (1, 2) for o in leaf.get("options") or []):
        subs = [o["name"] for o in leaf.get("options") or []]
        raise OptionError(f"/{qualified} is a group; pick one of its subcommands {subs}")

    leaf_options = {o["name"]: o for o in (leaf.get("options") or [])} if leaf else {}
    values_out: list[dict[str, Any]] = []
    for name, value in values.items():
        spec = leaf_options.get(name)
        if leaf is not None and spec is None and strict:
            raise OptionError(f"/{qualified} has no option {name!r} (has {sorted(leaf_options)})")
        if name in types:
            otype = types[name]
        elif spec is not None:
            otype = int(spec["type"])
        else:
            otype = infer_type(value)
        is_focused = name == focused
        if spec is not None and strict and not is_focused and spec.get("choices"):
            allowed = [c["value"] for c in spec["choices"]]
            raw = value.value if isinstance(value, Enum) else value
            if raw not in allowed:
                raise OptionError(
                    f"/{qualified} option {name!r}: {value!r} is not one of the choices {allowed}"
                )
        coerced = _coerce(otype, value, name, is_focused)
        if not is_focused and otype in (USER, CHANNEL, ROLE, MENTIONABLE, ATTACHMENT):
            if resolver is None:
                raise OptionError(f"option {name!r} of type {otype} needs a resolver")
            coerced = resolver(otype, value, resolved)
        entry: dict[str, Any] = {"name": name, "type": otype, "value": coerced}
        if is_focused:
            entry["focused"] = True
        values_out.append(entry)

    if focused is not None and focused not in values:
        raise OptionError(f"focused option {focused!r} has no value; pass {focused}='...'")

    if leaf is not None and strict:
        missing = [
            n
            for n, o in leaf_options.items()
            if o.get("required") and n not in values and o.get("type") not in (1, 2)
        ]
        if missing and focused is None:
            raise OptionError(f"/{qualified} is missing required option(s) {missing}")

    # Nest: [group -> [sub -> [values]]]
    options = values_out
    for wrapper in reversed(wrappers):
        wrapper = dict(wrapper)
        wrapper["options"] = options
        options = [wrapper]
    return BuiltOptions(options=options, resolved=resolved, leaf_schema=leaf)
