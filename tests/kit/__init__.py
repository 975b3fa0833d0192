"""Helpers the tests share: the CLI runner, git repositories, projects and scripted models."""
