"""assay's service: the FastAPI app, API tokens, jobs (huey + a lease-based job store), the v1 API,
the webhooks and the PR bot.  ``assay serve`` runs it; ``assay worker`` runs jobs elsewhere.
"""
