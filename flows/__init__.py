"""assay's flow engineering library: the LLM client, structured output, and sandboxed execution.

A library: it takes everything it needs as arguments and imports nothing else of assay's.
"""

from flows.cache import ResponseCache
from flows.coverage_data import CaseResult, CoverageReport, FileCoverage, RunResult, TestRun
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
from flows.sandbox import Isolation, Sandbox, isolation_level
from flows.structured import StructuredResult, complete_structured, parse_as
from flows.trace import TraceWriter, read_trace

__all__ = [
    "CaseResult",
    "Completion",
    "CoverageReport",
    "FileCoverage",
    "FlowsError",
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
    "RunResult",
    "Sandbox",
    "SandboxError",
    "StructuredOutputError",
    "StructuredResult",
    "TestRun",
    "TraceWriter",
    "Usage",
    "complete_structured",
    "isolation_level",
    "parse_as",
    "read_trace",
]
