"""Language-aware text knowledge shared by every stage: languages and scripts, numbers, places, dates, tokens."""
