"""The models behind the pipeline, chosen by name: embedders, answer LLMs, their fakes, the packaged model file, the embedding cache."""
