import threading
import time

from chat.scheduling import FirstTokenGate


def test_streams_pause_while_a_question_waits_for_its_first_token():
    gate = FirstTokenGate(max_pause_s=5)
    release = gate.enter().release
    paused = []

    def stream_step():
        started = time.perf_counter()
        gate.yield_to_new_questions()
        paused.append(time.perf_counter() - started)

    worker = threading.Thread(target=stream_step)
    worker.start()
    time.sleep(0.3)
    assert worker.is_alive(), "the streaming answer waits"
    release()
    release()  # a second release changes nothing
    worker.join(timeout=2)
    assert 0.25 < paused[0] < 2 and gate.waiting == 0


def test_a_pause_is_capped_so_streams_always_progress():
    gate = FirstTokenGate(max_pause_s=0.2)
    gate.enter()  # never released
    started = time.perf_counter()
    gate.yield_to_new_questions()
    assert 0.15 < time.perf_counter() - started < 1


def test_a_stream_never_waits_for_its_own_question():
    gate = FirstTokenGate(max_pause_s=5)
    own = gate.enter()
    started = time.perf_counter()
    gate.yield_to_new_questions(own)
    assert time.perf_counter() - started < 0.1
    other = gate.enter()
    worker = threading.Thread(target=gate.yield_to_new_questions, args=(own,))
    worker.start()
    time.sleep(0.2)
    assert worker.is_alive(), "another question still has priority"
    other.release()
    worker.join(timeout=2)
    assert not worker.is_alive()
