"""Language-aware text knowledge shared by every stage: languages and scripts, numbers, places, dates,
keyword tokens, the patterns of a reply (sentences, citation markers) and text overlap (bigrams)."""
