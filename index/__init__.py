"""Building and loading the index: documents in, store out.

Importing this package is cheap: torch, FAISS and the model load only when first used.
"""
