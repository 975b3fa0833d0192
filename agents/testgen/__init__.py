"""``assay tests PATH::SYMBOL``: tests for one function, method or class."""
