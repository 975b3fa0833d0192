"""assay's flow engineering library: the LLM client, structured output, and sandboxed execution.

A library: it takes everything it needs as arguments and imports nothing else of assay's.
"""

from flows.cache import ResponseCache
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
from flows.structured import StructuredResult, complete_structured, parse_as
from flows.trace import TraceWriter, read_trace

__all__ = [
    "Completion",
    "FlowsError",
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
    "SandboxError",
    "StructuredOutputError",
    "StructuredResult",
    "TraceWriter",
    "Usage",
    "complete_structured",
    "parse_as",
    "read_trace",
]
