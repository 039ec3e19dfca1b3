"""The naive anchor every answer evaluation runs beside docchat, in the same run: the chain a
LangChain user writes from the RAG tutorial. Same retrieval (docchat's retriever, same k),
same model and sampling settings, the tutorial's "stuff" prompt (LangChain hub
`rlm/rag-prompt`) with the retrieved chunks joined, and nothing else: no evidence gate, no
checks, no citations, no quotes.

An anchor answer counts as a refusal when it says it does not know (the prompt asks it to).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from chat.app import DocChat

# LangChain hub "rlm/rag-prompt", as the RAG tutorial uses it.
RAG_PROMPT = (
    "You are an assistant for question-answering tasks. Use the following pieces of retrieved "
    "context to answer the question. If you don't know the answer, just say that you don't "
    "know. Use three sentences maximum and keep the answer concise.\n"
    "Question: {question} \nContext: {context} \nAnswer:"
)
REFUSES = re.compile(
    r"\b(i (do not|don'?t|cannot|can'?t) know|(do(es)?|is) n[o']?t (say|mention|contain|"
    r"provide|specify|include|state)|not (mentioned|provided|specified|stated|found|"
    r"available) in|no information|(cannot|can'?t) (answer|find|be determined))", re.I)


@dataclass(frozen=True)
class AnchorAnswer:
    text: str
    refused: bool
    first_token_s: float | None
    total_s: float


def anchor_answer(app: DocChat, question: str, k: int | None = None) -> AnchorAnswer:
    from langchain_core.prompts import ChatPromptTemplate

    started = time.perf_counter()
    chunks = app.retriever.retrieve(question, k=k)
    context = "\n\n".join(chunk.document.page_content for chunk in chunks)
    prompt = ChatPromptTemplate.from_messages([("human", RAG_PROMPT)])
    messages = [{"role": "user", "content": m.content}
                for m in prompt.format_messages(question=question, context=context)]
    cfg = app.settings.generator
    text, first = "", None
    for piece in app.generator.stream(messages, max_new_tokens=cfg.max_new_tokens,
                                      temperature=cfg.temperature):
        if first is None:
            first = time.perf_counter() - started
        text += piece
    text = text.strip()
    return AnchorAnswer(text, not text or bool(REFUSES.search(text)), first,
                        time.perf_counter() - started)
