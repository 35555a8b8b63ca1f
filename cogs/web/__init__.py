"""The public board's web adapter: HTTP server, templates, static CSS and the feed and
calendar writers. The content comes from tracker.board; nothing here decides a figure."""
