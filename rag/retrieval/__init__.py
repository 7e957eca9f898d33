"""From a question to ranked passages: the named stages, language centering, the keyword index."""
