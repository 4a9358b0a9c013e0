"""Authentication: SigV4 verification and presigning, authorization tokens, principals."""
