"""From files to an index: discover the files, load, clean and chunk them (prepare), compare them with
what is stored (manifest), write, and keep the side indexes in step (repair, keyword_sync);
`pipeline.ingest_paths` runs the steps in order."""
