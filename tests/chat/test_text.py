from chat.text import (asks_for_number, code_names, content_terms, fenced_lines,
                       gives_number, located_sentences, names_in, numbers, question_terms,
                       split_sentences, strip_markers)


def test_sentences_keep_their_citation_markers_and_survive_abbreviations():
    text = ("Paris is the capital [1]. It has 2.1 million people, e.g. many. [2] "
            "Dr. Who lives there! Next line\n- a bullet point")
    assert split_sentences(text) == [
        "Paris is the capital [1].",
        "It has 2.1 million people, e.g. many. [2]",
        "Dr. Who lives there!",
        "Next line",
        "a bullet point",
    ]


def test_a_bullet_goes_but_the_dashes_of_a_command_option_stay():
    # The guide's "- `--type pdf`, ..." reached the model as "type pdf, ...", and it named
    # the other options.
    text = "Options:\n- --type pdf searches PDFs.\n-k 6 retrieves six.\n  * • nested\n> quoted"
    assert split_sentences(text) == ["Options:", "--type pdf searches PDFs.", "-k 6 retrieves six.",
                                     "nested", "quoted"]


def test_content_terms_drop_stop_words_and_markers_and_stem():
    assert content_terms("How many pumps were cleaned [3]?") == {"pump", "clean"}
    assert content_terms("What is it?") == frozenset()


def test_the_word_after_how_names_the_measure_not_a_term_the_answer_shares():
    """"How large are the chunks?" is answered by "at most 200 tokens", not by "large"."""
    assert question_terms("How large are the chunks docchat makes?") == {"chunk", "docchat",
                                                                        "make"}
    assert question_terms("how big a file can it read") == {"file", "read"}
    # not before a verb or article: "how" opens an indirect question about docchat
    assert question_terms("How docchat stores the index") == {"docchat", "store", "index"}
    assert question_terms("Which pumps are large?") == content_terms("Which pumps are large?")


def test_numbers_ignore_thousands_separators():
    assert numbers("It cost 1,000 or 3.5 euros in 2016 [2].") == {"1000", "3.5", "2016"}


def test_numbers_equal_without_their_trailing_zero_parts():
    # "In version 2.0, ..." answers from a changelog heading "2.0.0"; "5.0 seconds" is 5.
    assert numbers("Dropped in version 2.0 after 5.0 seconds") == numbers("2.0.0 took 5 s")
    assert numbers("Python 3.10, not 3.1; 0.5 s") == {"3.10", "3.1", "0.5"}
    assert numbers("1.000 kg") == {"1.000"}, "a thousand written the German way stays"


def test_numbers_written_as_words_read_as_digits():
    assert numbers("Two households, twenty-one days, thirty two bolts and 7 years") == {
        "2", "21", "32", "7"}
    assert numbers("The one that was chosen, and someone else.") == frozenset()


def test_strip_markers():
    assert strip_markers("Seven years [1][2].") == "Seven years."


def test_questions_that_ask_for_a_number_and_answers_that_give_one():
    assert all(asks_for_number(q) for q in ("How many sources does an answer use?",
                                            "How much did it cost?", "In what year did he die?"))
    assert not any(asks_for_number(q) for q in ("How do I remove a file?", "When was it built?"))
    assert all(gives_number(a) for a in ("It uses 4 [1].", "Four.", "It comes down to one.",
                                         "Not a single one.", "Millions of them."))
    assert not gives_number("The stations were run by ABC [1].")


def test_modal_verbs_are_not_words_an_answer_must_share():
    """"How long may a collection name be?" is answered by "Collection names have 3 to 63
    characters", which lacks "may"."""
    assert question_terms("How long may a collection name be?") == content_terms("collection")
    assert content_terms("It may, might, must or shall go.") == content_terms("go")


def test_sentences_are_the_same_whatever_the_line_endings():
    text = "# Setup\n- Install it.\n---\n> Then run it. It works.\n"
    expected = ["# Setup", "Install it.", "Then run it.", "It works."]
    assert split_sentences(text) == expected
    assert split_sentences(text.replace("\n", "\r\n")) == expected
    assert [line for line, _, _ in located_sentences(text)] == [0, 1, 3, 3]


def test_an_options_name_is_content_even_when_the_word_is_not():
    # "--type pdf" answers "How do I search only my PDF files?": without "type" the answer
    # only restated the question and was withheld.
    assert {"type", "k"} <= content_terms("Use the `--type pdf` option, or -k 6.")
    assert "type" not in content_terms("What type of file is it?")


def test_a_number_with_a_wildcard_is_one_word_and_no_number():
    assert {"5xx", "2.x"} <= content_terms("A 5xx response, or any 2.x release.")
    assert "5" not in content_terms("A 5XX response") and numbers("a 5xx response") == set()
    assert {"2.x", "5xxs"} <= content_terms("v2.x returns 5xxs") and not numbers("v2.x")
    assert numbers("1.5x faster") == {"1.5"}, "a factor is still a number"


def test_an_answers_numbered_item_is_one_sentence_without_its_number():
    text = "Steps:\n1. Run make venv.\n2) Run make demo.\n> 3. Open the chat.\n2020. A year."
    assert split_sentences(text, numbered=True) == [
        "Steps:", "Run make venv.", "Run make demo.", "Open the chat.", "2020.", "A year."]
    # A number that a hard-wrapped line begins with is a value, not a list marker.
    assert split_sentences("The default k is\n6. It can be changed.", numbered=True) == [
        "The default k is", "6.", "It can be changed."]
    # Options and decimals at a line's start are not list markers.
    assert split_sentences("-k 6 is the default.\n3.5 seconds pass.", numbered=True) == [
        "-k 6 is the default.", "3.5 seconds pass."]
    # A document's text keeps its numbers, which the prompt shows.
    assert split_sentences("Steps:\n1. Run make venv.") == ["Steps:", "1.", "Run make venv."]


def test_fenced_lines_are_the_code_blocks_fences_included():
    text = "Run:\n```bash\nmake demo\n```\nThen:\n~~~\nmake test"
    assert fenced_lines(text) == {1, 2, 3, 5, 6}, "an unclosed block runs to the end"


def test_code_names_are_options_snake_camel_and_dotted_names_not_prose():
    text = ("Run `doit -P thread` or --db-file; set dep_file and dodoFile, catch BaseFail, "
            "call doit.tools.set_trace or plugins:FooCmd [2]. E.g. a well-known file.")
    assert code_names(text) == {"-P", "--db-file", "dep_file", "dodofile", "basefail",
                                "doit.tools.set_trace", "plugins:foocmd"}
    assert code_names("The warranty lasts seven years, i.e. until 2030.") == frozenset()
    assert code_names("McCain got his PhD on iOS.") == frozenset()  # prose, not code
    # not from a number's or a word's middle; no option that ends in "-"; no placeholder
    assert code_names("10_000_000 bytes in 3D_model, 0xdead_beef, the --no- prefix, "
                      "my_project and YOUR_API_KEY") == frozenset()
    assert code_names("Émile_Zola and config[invented_key]") == {"émile_zola", "invented_key"}


def test_every_code_name_is_in_the_text_it_came_from():
    for text in ("Émile_Zola wrote it.", "Negate it with --no-color.", "Use doit.cfg or -P.",
                 "Set DOIT_CONFIG['dep_file'] and call tools.set_trace()."):
        assert code_names(text) and all(names_in(name, text) for name in code_names(text))


def test_a_name_is_in_a_text_whole_or_by_its_tail():
    assert names_in("basefail", "CatchedException was renamed to BaseFail.")
    assert names_in("doit.tools.set_trace", "from doit import tools; tools.set_trace()")
    assert names_in("doit.tools.set_trace", "from doit.tools import set_trace")
    # a dotted path's plain words scattered over the text are not the path
    assert not names_in("doit.backend", "How do I choose the backend? doit saves its state.")
    assert not names_in("os.path.join", "the os module; a path; join them")
    assert not names_in("doit_backend", "Set DOIT_CONFIG in dodo.py.")
    assert not names_in("dep", "Set dep_file in DOIT_CONFIG.")  # a part of a name is not it
    # how documents write names: a PDF line broken after "_", typography's dash for "--"
    assert names_in("dep_file", "set the key dep_ file in DOIT_CONFIG")
    assert names_in("--backend", "Use the \u2013backend option.")
    assert names_in("dep_file", "dep_\u200bfile")
    assert not names_in("dep_file", "Set dep file in DOIT_CONFIG.")
    # the second chance joins only after an underscore, not across lines of code
    assert names_in("set_trace", "from doit.tools import set_trace\n__all__ = ['x']")
    # an option's letter case is the option: -p is not -P
    assert names_in("-P", "Use --parallel-type/-P.") and not names_in("-p", "Use -P thread.")
