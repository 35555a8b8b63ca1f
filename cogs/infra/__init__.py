"""The bot's own infrastructure, used by the extensions in cogs/ and never loaded as one: the
Bot class and its bootstrap, the Discord notifier, embeds, persistent buttons, proposal posting
and the shared reply helpers and checks."""
