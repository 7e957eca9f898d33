"""Measuring retrieval and answers on a benchmark or on documents plus questions."""
