"""Saved conversations through crafted Gradio calls: a conversation id is not enough to read
someone else's conversation; the browser id it was saved under is needed too."""

from __future__ import annotations

from tests.security.conftest import fn_index, gradio_call


def test_another_browser_cannot_open_a_conversation_by_its_id(open_server):
    url, _ = open_server
    asked = gradio_call(url, fn_index(url, "question", "submit"),
                        ["How long is the Zephyr pump warranty?", [], None, None,
                         "victim-browser", None], session="victim-tab")
    assert asked["success"] is True, asked
    conversation = asked["output"]["data"][5]["value"]  # the sidebar selects it
    assert isinstance(conversation, str) and len(conversation) == 32

    open_ = fn_index(url, "conversations", "input")
    # from the attacker's own tab (Gradio refuses a value its sidebar never listed) and from
    # the victim's tab with the attacker's browser id (the store finds nothing for that owner)
    for session in ("attacker", "victim-tab"):
        stolen = gradio_call(url, open_, [conversation, "attacker-browser"], session=session)
        assert "Zephyr" not in str(stolen), stolen
        assert stolen["success"] is False or "gone" in str(stolen["output"]), stolen

    mine = gradio_call(url, open_, [conversation, "victim-browser"], session="victim-tab")
    assert "Zephyr" in str(mine["output"]["data"][0])

    for name, data in (("rename", [conversation, "owned", "attacker-browser"]),
                       ("delete-conversation", [conversation, "attacker-browser"])):
        gradio_call(url, fn_index(url, name), data, session="attacker")
    still = gradio_call(url, open_, [conversation, "victim-browser"], session="victim-tab")
    assert "Zephyr" in str(still["output"]["data"][0]), "neither renamed away nor deleted"
