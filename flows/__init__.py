"""assay's flow engineering library: the LLM client, structured output, sandboxed execution,
the flow runtime (:mod:`flows.runtime`) and the flows (:mod:`flows.solve`, :mod:`flows.testwrite`).

A library: it takes everything it needs as arguments and imports nothing else of assay's.
"""

from flows.cache import ResponseCache
from flows.coverage_data import CaseResult, CoverageReport, FileCoverage, RunResult, TestRun
from flows.credentials import CredentialScreen, looks_like_credential
from flows.errors import (
    FlowsError,
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMModelNotFound,
    LLMRateLimited,
    LLMServerError,
    LLMTimeout,
    LLMUnreachable,
    SandboxError,
    StructuredOutputError,
)
from flows.llm import Completion, LLMClient, Usage
from flows.runtime import (
    Budget,
    BudgetExhausted,
    FlowRunner,
    RetryPolicy,
    Route,
    Stage,
    StageFailed,
)
from flows.sandbox import Guarantee, Isolation, Sandbox, isolation_level
from flows.structured import StructuredResult, complete_structured, parse_as
from flows.trace import TraceWriter, read_trace

__all__ = [
    "Budget",
    "BudgetExhausted",
    "CaseResult",
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
    "LLMRateLimited",
    "LLMServerError",
    "LLMTimeout",
    "LLMUnreachable",
    "ResponseCache",
    "RetryPolicy",
    "Route",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "Stage",
    "StageFailed",
    "StructuredOutputError",
    "StructuredResult",
    "TestRun",
    "TraceWriter",
    "Usage",
    "complete_structured",
    "isolation_level",
    "looks_like_credential",
    "parse_as",
    "read_trace",
]
