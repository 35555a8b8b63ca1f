"""What leaves the bot: alert rows fanned out to their destinations (``fanout``), the words an
alert reads in (``alert_text``), and the deliverer that drains the outbox through a Notifier
(``delivery``). A row is marked sent only after the Notifier confirms."""
