"""Answering: retrieval, answer composition, the HTTP API and the CLI.

Importing this package is cheap: no torch, no FAISS, no model until first used.
"""
