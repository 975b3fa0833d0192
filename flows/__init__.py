"""assay's flow engineering library: the LLM client, the flow runtime and its stages, sandboxed
execution of tests and coverage, and the flows themselves (solve, test writing).

A library: it takes everything it needs as arguments and imports nothing else of assay's.  Its
users import these names from ``flows``, not from its modules::

    from flows import FlowRunner, LLMClient, Sandbox, Stage

    runner = FlowRunner(LLMClient(url, model), budget=Budget(max_tokens=20_000))
    reply = runner.run(MY_STAGE, {"code": code}).value

The names load on first use (importing :mod:`flows` stays cheap: no HTTP client, no pydantic
models until they are needed).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from flows.errors import (
    FlowsError,
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMModelNotFound,
    LLMOutOfTime,
    LLMRateLimited,
    LLMServerError,
    LLMTimeout,
    LLMUnreachable,
    SandboxError,
)

_LAZY = {
    "ResponseCache": "flows.cache",
    **dict.fromkeys(
        ("Arc", "CaseResult", "CoverageReport", "FileCoverage", "RunResult", "TestRun"),
        "flows.coverage_data",
    ),
    **dict.fromkeys(("LLMClient", "retry_after_seconds"), "flows.llm"),
    **dict.fromkeys(("Completion", "StageUsage", "Usage"), "flows.llm_types"),
    **dict.fromkeys(
        ("MAX_TESTS_PER_ANSWER", "answer_complete", "answer_end", "extract_test_module"),
        "flows.pycode",
    ),
    **dict.fromkeys(("settle_reply", "trim_to_parse"), "flows.pycode"),
    **dict.fromkeys(
        ("Budget", "BudgetExhausted", "Completer", "FlowRunner", "StageFailed"), "flows.runtime"
    ),
    **dict.fromkeys(("CodeAnswer", "TextAnswer"), "flows.answers"),
    **dict.fromkeys(("Request", "RetryPolicy", "Route", "Stage", "StageResult"), "flows.stage"),
    **dict.fromkeys(
        ("Guarantee", "Isolation", "Sandbox", "host_guarantees", "isolation_level", "repo_files"),
        "flows.sandbox",
    ),
    "parse_test_command": "flows.sandbox",
    "STAGE_PREFIX": "flows.sandbox_sweep",
    **dict.fromkeys(
        ("PLACEHOLDER", "CredentialScreen", "looks_like_credential"), "flows.credentials"
    ),
    **dict.fromkeys(("Problem", "SolveOptions", "SolveResult", "solve_problem"), "flows.solve"),
    **dict.fromkeys(("SOLUTION_MODULE", "load_tests"), "flows.solve_exec"),
    **dict.fromkeys(("ParseError", "parse_as"), "flows.structured"),
    **dict.fromkeys(
        ("Behaviour", "TestTarget", "TestWritingFlow", "TestWritingOptions"), "flows.testwrite"
    ),
    **dict.fromkeys(("TraceWriter", "read_trace"), "flows.trace"),
    **dict.fromkeys(("describe_step", "summarize"), "flows.trace_summary"),
    "mask_url": "flows.urls",
}

if TYPE_CHECKING:
    from flows.answers import CodeAnswer, TextAnswer
    from flows.cache import ResponseCache
    from flows.coverage_data import (
        Arc,
        CaseResult,
        CoverageReport,
        FileCoverage,
        RunResult,
        TestRun,
    )
    from flows.credentials import PLACEHOLDER, CredentialScreen, looks_like_credential
    from flows.llm import LLMClient, retry_after_seconds
    from flows.llm_types import Completion, StageUsage, Usage
    from flows.pycode import (
        MAX_TESTS_PER_ANSWER,
        answer_complete,
        answer_end,
        extract_test_module,
        settle_reply,
        trim_to_parse,
    )
    from flows.runtime import Budget, BudgetExhausted, Completer, FlowRunner, StageFailed
    from flows.sandbox import (
        Guarantee,
        Isolation,
        Sandbox,
        host_guarantees,
        isolation_level,
        parse_test_command,
        repo_files,
    )
    from flows.sandbox_sweep import STAGE_PREFIX
    from flows.solve import Problem, SolveOptions, SolveResult, solve_problem
    from flows.solve_exec import SOLUTION_MODULE, load_tests
    from flows.stage import Request, RetryPolicy, Route, Stage, StageResult
    from flows.structured import ParseError, parse_as
    from flows.testwrite import Behaviour, TestTarget, TestWritingFlow, TestWritingOptions
    from flows.trace import TraceWriter, read_trace
    from flows.trace_summary import describe_step, summarize
    from flows.urls import mask_url


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'flows' has no attribute {name!r}")


__all__ = [
    "MAX_TESTS_PER_ANSWER",
    "PLACEHOLDER",
    "SOLUTION_MODULE",
    "STAGE_PREFIX",
    "Arc",
    "Behaviour",
    "Budget",
    "BudgetExhausted",
    "CaseResult",
    "CodeAnswer",
    "Completer",
    "Completion",
    "CoverageReport",
    "CredentialScreen",
    "FileCoverage",
    "FlowRunner",
    "FlowsError",
    "Guarantee",
    "Isolation",
    "LLMAuthError",
    "LLMBadResponse",
    "LLMClient",
    "LLMError",
    "LLMModelNotFound",
    "LLMOutOfTime",
    "LLMRateLimited",
    "LLMServerError",
    "LLMTimeout",
    "LLMUnreachable",
    "ParseError",
    "Problem",
    "Request",
    "ResponseCache",
    "RetryPolicy",
    "Route",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "SolveOptions",
    "SolveResult",
    "Stage",
    "StageFailed",
    "StageResult",
    "StageUsage",
    "TestRun",
    "TestTarget",
    "TestWritingFlow",
    "TestWritingOptions",
    "TextAnswer",
    "TraceWriter",
    "Usage",
    "answer_complete",
    "answer_end",
    "describe_step",
    "extract_test_module",
    "host_guarantees",
    "isolation_level",
    "load_tests",
    "looks_like_credential",
    "mask_url",
    "parse_as",
    "parse_test_command",
    "read_trace",
    "repo_files",
    "retry_after_seconds",
    "settle_reply",
    "solve_problem",
    "summarize",
    "trim_to_parse",
]  # fmt: skip
