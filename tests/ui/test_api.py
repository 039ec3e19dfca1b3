"""The OpenAI-compatible API, served for real, driven by the official `openai` client."""

from __future__ import annotations

import httpx
import openai
import pytest

from chat.settings import ServerConfig, load_settings
from evals.servers import free_port
from tests.docs_fixtures import highlighted_pixels, write_fixture_docs
from tests.fakes import FakeGenerator
from tests.ui.test_cli import fake_docchat
from ui.serve import build_server_app, start_in_thread

KEY = "test-key-5a1f"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    generator = FakeGenerator()
    app = fake_docchat(load_settings(None, data_dir=tmp / "data"), generator)
    app.ingestor.ingest([write_fixture_docs(tmp / "docs")["guide.md"].parent])
    # A second collection, with one document the default collection does not have.
    notes = tmp / "notes" / "kiln.md"
    notes.parent.mkdir()
    notes.write_text("# Kiln\n\nThe kiln fires stoneware at 1240 degrees for nine hours.\n")
    other = fake_docchat(load_settings(None, data_dir=tmp / "data", collection="pottery"),
                         generator)
    other.ingestor.ingest([notes])
    port = free_port()
    server = start_in_thread(build_server_app(app, ServerConfig(port=port, api_key=KEY)),
                             "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}", generator
    server.should_exit = True


def client(url: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


def test_models_are_docchat_and_one_per_collection(served):
    url, _ = served
    assert [m.id for m in client(url).models.list()] == [
        "docchat", "docchat/default", "docchat/pottery"]


def ask_pottery(served):
    url, generator = served
    generator.enqueue("It fires stoneware at 1240 degrees [1].")
    return client(url).chat.completions.create(
        model="docchat/pottery",
        messages=[{"role": "user", "content": "The kiln fires stoneware at how many degrees?"}])


def test_the_model_chooses_the_collection(served):
    reply = ask_pottery(served)
    assert reply.model == "docchat/pottery"
    assert reply.choices[0].message.content.startswith("It fires stoneware at 1240 degrees")
    assert [s["file_name"] for s in reply.model_extra["sources"]] == ["kiln.md"]
    assert reply.model_extra["docchat"]["collection"] == "pottery"


def test_an_unknown_model_is_refused_with_the_list_of_models(served):
    url, _ = served
    with pytest.raises(openai.NotFoundError, match="docchat/pottery"):
        client(url).chat.completions.create(
            model="docchat/nope", messages=[{"role": "user", "content": "Hello?"}])


def test_each_source_links_to_its_file_through_a_signed_url(served):
    url, _ = served
    link = ask_pottery(served).model_extra["sources"][0]["url"]
    assert link.startswith("/files/pottery/")
    opened = httpx.get(url + link)
    assert opened.status_code == 200 and "1240 degrees" in opened.text
    assert opened.headers["content-security-policy"].startswith("sandbox")
    path, sig = link.split("?sig=")
    assert httpx.get(f"{url}{path}?sig={'0' * len(sig)}").status_code == 403
    moved = path.replace("/files/pottery/", "/files/default/")  # valid id, other collection
    assert httpx.get(f"{url}{moved}?sig={sig}").status_code == 403


def sources_of(served, question: str, answer: str) -> list[dict]:
    """The sources of a completion from the default collection (the model says `answer`)."""
    url, generator = served
    generator.enqueue(answer)
    reply = client(url).chat.completions.create(
        model="docchat", messages=[{"role": "user", "content": question}])
    return reply.model_extra["sources"]


def test_a_pdf_source_shows_its_page_with_the_passage_highlighted(served):
    url, _ = served
    sources = sources_of(served, "How do I reset the Kestrel router?",
                         "Hold the red button for twelve seconds [1].")
    pdf = next(s for s in sources if s["file_name"] == "router.pdf" and "red button" in s["text"])
    assert pdf["page"] == 2 and pdf["page_url"].endswith(f"/page?sig={pdf['url'].split('=')[1]}")
    shown = httpx.get(url + pdf["page_url"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert shown.headers["content-security-policy"].startswith("sandbox")
    assert highlighted_pixels(shown.content) > 1000, "the passage is highlighted"
    path, sig = pdf["page_url"].split("?sig=")
    assert httpx.get(f"{url}{path}?sig={'0' * len(sig)}").status_code == 403
    others = [s for s in sources if s["file_name"] != "router.pdf"]
    assert others and all(s["page_url"] is None for s in others)
    not_pdf = others[0]["url"].replace("?sig=", "/page?sig=")  # signed, but no PDF page
    assert httpx.get(url + not_pdf).status_code == 404


def test_any_source_shows_its_passage_marked_in_its_context(served):
    url, _ = served
    sources = sources_of(served, "How often is the intake filter rinsed?",
                         "Rinse the intake filter every month [1].")
    source = next(s for s in sources if s["file_name"] == "guide.md")
    shown = httpx.get(url + source["context_url"])
    assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/html")
    assert shown.headers["content-security-policy"].startswith("sandbox")
    marked = shown.text.split("<mark>")[1].split("</mark>")[0]
    assert source["text"][:40] in marked.replace("&#x27;", "'").replace("&quot;", '"')
    path, sig = source["context_url"].split("?sig=")
    assert httpx.get(f"{url}{path}?sig={'0' * len(sig)}").status_code == 403


def test_completion_answers_from_the_documents_with_sources(served):
    url, generator = served
    generator.enqueue("The warranty lasts seven years [1].")
    reply = client(url).chat.completions.create(
        model="docchat", messages=[{"role": "user", "content": "How long is the Zephyr pump "
                                                               "warranty?"}])
    text = reply.choices[0].message.content
    assert text.startswith("The warranty lasts seven years [1].")
    sources = reply.model_extra["sources"]
    assert sources[0]["file_name"] == "guide.md" and "seven years" in sources[0]["text"]
    facts = reply.model_extra["docchat"]
    assert facts["cited"] == [1]
    assert facts["generated"] == "The warranty lasts seven years [1]."  # the model's own text
    assert {"retrieve_s", "first_token_s", "total_s"} <= set(facts["timings"])
    assert facts["evidence"] > 0.4, "the evidence score that let the model answer"
    assert facts["judged"] is None and facts["verified"] is None, "the fake cannot tell"
    assert facts["certainty"] is None


def test_streaming_sends_tokens_then_the_sources(served):
    url, generator = served
    generator.enqueue("Rinse the intake filter every month [1].")
    stream = client(url).chat.completions.create(
        model="docchat", stream=True,
        messages=[{"role": "user", "content": "When should the intake filter be rinsed with "
                                              "warm water?"}])
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) >= 3, "the answer arrives in pieces"
    assert "".join(pieces).startswith("Rinse the intake filter every month [1].")
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert any("intake filter" in s["text"] for s in chunks[-1].model_extra["sources"])


def test_earlier_messages_are_the_conversation(served):
    url, generator = served
    generator.enqueue("It costs 249 euros [1].")
    reply = client(url).chat.completions.create(
        model="docchat",
        messages=[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": "How long is the Zephyr pump warranty?"},
                  {"role": "assistant", "content": "Seven years."},
                  {"role": "user", "content": "And what does it cost?"}])
    assert "Zephyr" in reply.model_extra["docchat"]["query"], "searched with the context"
    assert any("249 euros" in s["text"] for s in reply.model_extra["sources"])


def test_a_wrong_or_missing_key_is_refused(served):
    url, _ = served
    with pytest.raises(openai.AuthenticationError):
        client(url, "wrong").models.list()
    assert httpx.get(f"{url}/v1/models").status_code == 401


def test_bad_requests_get_openai_style_errors(served):
    url, _ = served
    with pytest.raises(openai.BadRequestError):
        client(url).chat.completions.create(
            model="docchat", messages=[{"role": "assistant", "content": "hi"}])


def test_the_web_chat_is_served_on_the_same_port_behind_the_key(served):
    url, _ = served
    page = httpx.get(f"{url}/", follow_redirects=True)
    assert page.status_code == 200 and "gradio" in page.text.lower()
    config = httpx.get(f"{url}/config")
    assert config.status_code == 401 or "login" in config.text.lower()
