"""From files to an index: find, load, clean, chunk, write, and keep the side indexes in step."""
