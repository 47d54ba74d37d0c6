"""Knowledge bases: the retrieval engine (embedders, vector index, rank fusion) and, on top of
it, ingest and hybrid search."""
