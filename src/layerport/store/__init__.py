"""Storage seams: the metadata store (SQL) and the blob store (bytes by digest)."""
