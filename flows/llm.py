"""The one module that talks to the LLM: any OpenAI-compatible chat-completions endpoint.

``LLMClient.complete`` sends one chat request and returns a :class:`Completion`.  It retries
429 and 5xx answers with backoff that honours ``Retry-After`` (the completion says how many
retries it took), translates every failure into a :mod:`flows.errors` type, and keeps an
optional on-disk response cache (a rerun costs nothing).  What calls cost and the trace are the
flow runner's (:class:`flows.runtime.FlowRunner`), the one way assay asks a model.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx
import openai

from flows.cache import ResponseCache
from flows.errors import (
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMModelNotFound,
    LLMOutOfTime,
    LLMRateLimited,
    LLMServerError,
    LLMTimeout,
    LLMUnreachable,
)
from flows.llm_types import Completion
from flows.urls import mask_url

__all__ = ["Completion", "LLMClient", "Message", "retry_after_seconds"]

Message = Mapping[str, str]

DEFAULT_STAGE = "default"


def retry_after_seconds(headers: Mapping[str, str] | httpx.Headers | None) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``), if it did."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class LLMClient:
    """A client for one OpenAI-compatible endpoint.

    ``stage_models`` routes named stages to other models on the same endpoint (a cheap model for
    cheap stages).  ``max_retries`` bounds retries of 429/5xx/garbage answers; a connection
    failure or a timeout is retried once.  Thread-safe.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 4,
        max_backoff: float = 60.0,
        stage_models: Mapping[str, str] | None = None,
        cache: ResponseCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.shown_url = mask_url(self.base_url)  # what messages say: no password
        self.model = model
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_backoff = max_backoff
        self.stage_models = dict(stage_models or {})
        self.cache = cache
        self._sleep = sleep
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or "no-key",
            timeout=timeout,
            max_retries=0,
        )

    # -- public API ---------------------------------------------------------------------------

    def model_for(self, stage: str) -> str:
        return self.stage_models.get(stage, self.model)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        stage: str = DEFAULT_STAGE,
        model: str | None = None,
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
        use_cache: bool = True,
        stop_when: Callable[[str], bool] | None = None,
        timeout: float | None = None,
    ) -> Completion:
        """Send one chat request; return the answer or raise an :class:`LLMError` subtype.

        ``timeout`` caps the whole call, retries and back-off included (a run's time budget
        passes what is left of it): past it the call raises :class:`LLMTimeout`.

        ``seed`` is sent to the server and is part of the cache key: ask again with another
        seed to get a fresh sample instead of the cached one.  ``stop_when`` streams the answer
        and hangs up as soon as the text so far satisfies it (finish reason ``"stop_when"``):
        a small model that goes on writing or loops costs nothing past what is needed.
        """
        model = model or self.model_for(stage)
        msgs = [{"role": m["role"], "content": m["content"]} for m in messages]
        params: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
        if stop:
            params["stop"] = list(stop)
        if seed is not None:
            params["seed"] = seed
        key = ResponseCache.key(model, msgs, params) if self.cache is not None else ""
        if self.cache is not None and use_cache:
            hit = self.cache.get(key)
            if hit is not None:
                completion = Completion(
                    text=hit["text"],
                    model=model,
                    stage=stage,
                    prompt_tokens=int(hit.get("prompt_tokens", 0)),
                    completion_tokens=int(hit.get("completion_tokens", 0)),
                    latency=0.0,
                    cached=True,
                    finish_reason=hit.get("finish_reason"),
                )
                return completion

        deadline = None if timeout is None else time.monotonic() + timeout
        completion = self._request_with_retries(msgs, model, stage, params, stop_when, deadline)
        if self.cache is not None:
            self.cache.put(
                key,
                {
                    "text": completion.text,
                    "prompt_tokens": completion.prompt_tokens,
                    "completion_tokens": completion.completion_tokens,
                    "finish_reason": completion.finish_reason,
                    "model": model,
                },
            )
        return completion

    def list_models(self) -> list[str]:
        """The model ids the endpoint serves (raises the same typed errors as ``complete``)."""
        try:
            page = self._client.models.list()
            return [m.id for m in page.data]
        except openai.APIError as exc:
            raise self._translate(exc, self.model) from exc
        except Exception as exc:  # garbage body, wrong content type
            raise LLMBadResponse(
                f"Unreadable answer from {self.shown_url}/models", base_url=self.shown_url
            ) from exc

    def close(self) -> None:
        self._client.close()

    # -- internals ----------------------------------------------------------------------------

    def _request_with_retries(
        self,
        msgs: list[dict[str, str]],
        model: str,
        stage: str,
        params: dict[str, Any],
        stop_when: Callable[[str], bool] | None = None,
        deadline: float | None = None,
    ) -> Completion:
        attempt = 0
        transport_retries = 0
        while True:
            started = time.monotonic()
            client = self._client
            if deadline is not None:
                left = deadline - started
                if left <= 0:
                    raise self._out_of_time(deadline, started)
                client = client.with_options(timeout=min(self.timeout, left))
            try:
                if stop_when is not None:
                    answer = self._stream(client, msgs, model, stage, params, stop_when, deadline)
                else:
                    response = client.chat.completions.create(
                        model=model,
                        messages=msgs,  # type: ignore[arg-type]
                        **params,
                    )
                    answer = self._to_completion(response, model, stage, time.monotonic() - started)
                return replace(answer, retries=attempt) if attempt else answer
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                # APITimeoutError subclasses APIConnectionError.
                if deadline is not None and time.monotonic() >= deadline:
                    raise self._out_of_time(deadline, started) from exc
                err = self._translate(exc, model)
                if transport_retries >= 1 or attempt >= self.max_retries:
                    raise err from exc
                transport_retries += 1
                wait = self._backoff(attempt, None)
            except (openai.RateLimitError, openai.InternalServerError) as exc:
                err = self._translate(exc, model)
                if attempt >= self.max_retries:
                    raise err from exc
                wait = self._backoff(attempt, retry_after_seconds(exc.response.headers))
            except openai.APIStatusError as exc:
                if exc.status_code in (408, 409) or exc.status_code >= 500:
                    err = self._translate(exc, model)
                    if attempt >= self.max_retries:
                        raise err from exc
                    wait = self._backoff(attempt, retry_after_seconds(exc.response.headers))
                else:
                    raise self._translate(exc, model) from exc
            except LLMBadResponse:
                if attempt >= self.max_retries:
                    raise
                wait = self._backoff(attempt, None)
            except (openai.APIError, ValueError) as exc:  # e.g. a body that is not JSON
                err = LLMBadResponse(
                    f"Unreadable answer from {self.shown_url}: {_short(str(exc))}",
                    base_url=self.shown_url,
                )
                if attempt >= self.max_retries:
                    raise err from exc
                wait = self._backoff(attempt, None)
            attempt += 1
            if deadline is not None and time.monotonic() + wait >= deadline:
                raise self._out_of_time(deadline, started)
            self._sleep(wait)

    def _out_of_time(self, deadline: float, started: float) -> LLMOutOfTime:
        return LLMOutOfTime(
            f"The LLM endpoint at {self.base_url} did not answer in the time this call had"
            f" ({max(0.0, deadline - started):.0f} s left of the run's budget)",
            base_url=self.base_url,
        )

    def _stream(
        self,
        client: openai.OpenAI,
        msgs: list[dict[str, str]],
        model: str,
        stage: str,
        params: dict[str, Any],
        stop_when: Callable[[str], bool],
        deadline: float | None,
    ) -> Completion:
        started = time.monotonic()
        stream: Any = client.chat.completions.create(  # type: ignore[call-overload]
            model=model,
            messages=msgs,
            stream=True,
            stream_options={"include_usage": True},  # the last chunk, when we do not hang up
            **params,
        )
        parts: list[str] = []
        chunks = seen = 0
        finish: str | None = None
        usage: Any = None
        try:
            for chunk in stream:
                seen += 1
                usage = getattr(chunk, "usage", None) or usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                delta = (choice.delta.content if choice.delta else None) or ""
                finish = choice.finish_reason or finish
                if delta:
                    parts.append(delta)
                    chunks += 1
                    if stop_when("".join(parts)):
                        finish = "stop_when"
                        break
                if deadline is not None and time.monotonic() >= deadline:
                    raise self._out_of_time(deadline, started)
        finally:
            stream.close()  # hang up: the server stops generating for us
        if not seen:  # not a single event: the body was no chat-completion stream at all
            raise LLMBadResponse(
                f"Unreadable answer from {self.shown_url}: no chat-completion events in the stream",
                base_url=self.shown_url,
            )
        prompt_chars = sum(len(m["content"]) for m in msgs)
        return Completion(
            text="".join(parts),
            model=model,
            stage=stage,
            # Servers that send no usage when streaming: one chunk is one token; the prompt is
            # estimated at ~3.5 characters a token.
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or prompt_chars / 3.5),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or chunks),
            latency=time.monotonic() - started,
            finish_reason=finish,
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        base = min(self.max_backoff, 0.5 * (2**attempt))
        return base * (0.75 + random.random() * 0.5)

    def _to_completion(self, response: Any, model: str, stage: str, latency: float) -> Completion:
        choices = getattr(response, "choices", None)
        if not choices:
            raise LLMBadResponse(
                f"Answer without choices from {self.shown_url}", base_url=self.shown_url
            )
        choice = choices[0]
        message = getattr(choice, "message", None)
        text = getattr(message, "content", None)
        if text is None:
            raise LLMBadResponse(
                f"Answer without message content from {self.shown_url}", base_url=self.shown_url
            )
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        return Completion(
            text=text,
            model=getattr(response, "model", None) or model,
            stage=stage,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency=latency,
            finish_reason=getattr(choice, "finish_reason", None),
        )

    def _translate(self, exc: Exception, model: str) -> LLMError:
        url = self.shown_url
        if isinstance(exc, openai.APITimeoutError):
            return LLMTimeout(
                f"The LLM endpoint at {url} did not answer within {self.timeout:g} s",
                base_url=url,
            )
        if isinstance(exc, openai.APIConnectionError):
            return LLMUnreachable(f"No LLM endpoint reachable at {url}", base_url=url)
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return LLMAuthError(
                f"The LLM endpoint at {url} rejected the API key (HTTP {exc.status_code})",
                base_url=url,
            )
        if isinstance(exc, openai.NotFoundError):
            body = _short(str(exc)).lower()
            if "model" in body:
                return LLMModelNotFound(
                    f"The LLM endpoint at {url} does not know the model '{model}'", base_url=url
                )
            return LLMUnreachable(
                f"No chat-completions API at {url} (HTTP 404)",
                "check the base URL; OpenAI-compatible servers usually end in /v1",
                base_url=url,
            )
        if isinstance(exc, openai.RateLimitError):
            return LLMRateLimited(
                f"The LLM endpoint at {url} kept answering 429 (rate limited) after "
                f"{self.max_retries} retries",
                base_url=url,
            )
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code >= 500:
                return LLMServerError(
                    f"The LLM endpoint at {url} failed with HTTP {exc.status_code}: "
                    f"{_short(str(exc))}",
                    base_url=url,
                )
            if exc.status_code == 400:
                return LLMBadResponse(
                    f"The LLM endpoint at {url} refused the request (HTTP 400): {_short(str(exc))}",
                    "shorten the prompt or lower max_tokens to fit the model's context",
                    base_url=url,
                )
            return LLMBadResponse(
                f"The LLM endpoint at {url} answered HTTP {exc.status_code}: {_short(str(exc))}",
                base_url=url,
            )
        return LLMBadResponse(f"Unexpected answer from {url}: {_short(str(exc))}", base_url=url)


def _short(text: str, limit: int = 300) -> str:
    text = mask_url(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
