from ingest.keyword_index import KeywordIndex


def meta(source, file_type="md"):
    return {"source": source, "file_type": file_type}


def test_search_stems_drops_stop_words_and_filters(tmp_path):
    index = KeywordIndex(tmp_path)
    index.rebuild(["a", "b", "c"],
                  ["The pumps are running", "Routers reset slowly", "A running router"],
                  [meta("/x/1"), meta("/x/2", "pdf"), meta("/x/3")])
    assert [i for i, _ in index.search("pump run", 5)] == ["a", "c"]
    assert index.search("the are", 5) == [], "stop words alone match nothing"
    assert [i for i, _ in index.search("router", 5, file_types={"pdf"})] == ["b"]
    assert [i for i, _ in index.search("router running", 5, sources={"/x/3"})] == ["c"]
    assert index.search("zebra", 5) == []


def test_a_rebuild_is_seen_by_other_readers_and_old_builds_are_removed(tmp_path):
    writer, reader = KeywordIndex(tmp_path), KeywordIndex(tmp_path)
    assert reader.count() is None and reader.search("x", 3) == []
    writer.rebuild(["a"], ["alpha"], [meta("/1")])
    assert reader.search("alpha", 3) == [("a", reader.search("alpha", 3)[0][1])]
    writer.rebuild(["b"], ["beta"], [meta("/2")])
    assert [i for i, _ in reader.search("beta", 3)] == ["b"]
    assert reader.search("alpha", 3) == []
    assert reader.count() == 1
    builds = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(builds) == 1


def test_an_empty_index_is_valid(tmp_path):
    index = KeywordIndex(tmp_path)
    index.rebuild([], [], [])
    assert index.count() == 0 and index.search("anything", 3) == []


def test_building_and_searching_print_no_bm25s_debug_lines(tmp_path, caplog):
    import logging

    caplog.set_level(logging.DEBUG)  # a root logger that would show DEBUG, as a server's may
    index = KeywordIndex(tmp_path)
    index.rebuild(["a"], ["alpha pumps"], [meta("/1")])
    assert index.search("pump", 3)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("bm25s")] == []


def test_an_index_built_with_other_bm25_settings_is_not_current(tmp_path, monkeypatch):
    from ingest import keyword_index

    index = KeywordIndex(tmp_path)
    index.rebuild(["a"], ["alpha"], [meta("/1")], built_from="v1")
    assert index.built_from() == "v1"
    monkeypatch.setattr(keyword_index, "RECIPE", keyword_index.RECIPE + " changed")
    assert index.built_from() is None, "the refresh then rebuilds it with today's settings"
