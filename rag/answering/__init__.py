"""From passages to a checked answer: prompts, generation, follow-ups, citations and their checks, translation."""
