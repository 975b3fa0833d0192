"""``assay review`` and the PR bot's review: diff parsing, context, the agent, the tests section."""
