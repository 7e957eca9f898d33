"""Turning results into words for people: the string catalog and the renderers (Markdown, HTML, plain text)."""
