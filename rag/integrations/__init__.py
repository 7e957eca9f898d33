"""Our pipeline as parts of other frameworks (`rag.integrations.llama_index`). Each module imports its
framework, so nothing here loads unless asked for."""
