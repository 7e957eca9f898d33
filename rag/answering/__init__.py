"""From passages to a checked answer: prompts, generation, follow-ups, citations and their checks,
translation; optionally reading in the source's language (source_language.py) and quoting the
closest sentence when refusing (evidence.py)."""
