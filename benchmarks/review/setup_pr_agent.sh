#!/usr/bin/env bash
# The pr-agent venv of the review benchmark, outside git (benchmarks/work/review/pr-agent-venv):
# pr-agent 0.49.0 on Python 3.12 (it needs >= 3.12; pyenv has 3.12 here). Idempotent.
#
#   bash benchmarks/review/setup_pr_agent.sh [VENV]
#
# smoke.py then checks, without a model, that it starts, fails cleanly against a closed port
# and reviews a PR against a scripted fake endpoint.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${1:-${PR_AGENT_VENV:-$HERE/../work/review/pr-agent-venv}}"
PY312="${PY312:-$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python 2>/dev/null | tail -1)}"
[ -n "$PY312" ] && "$PY312" --version >/dev/null 2>&1 || PY312=python3.12
HAVE="$("$VENV/bin/python" -m pip show pr-agent 2>/dev/null || true)"
if [ -x "$VENV/bin/pr-agent" ] && grep -qx 'Version: 0.49.0' <<<"$HAVE"; then
  echo "pr-agent venv: present at $VENV"
else
  echo "pr-agent venv: creating $VENV with $PY312"
  "$PY312" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "pr-agent==0.49.0"
fi
"$VENV/bin/python" --version
LIST="$("$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null || true)"
grep -iE '^(pr-agent|litellm|openai|tiktoken) ' <<<"$LIST" | sed 's/^/    /'
