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
    earlier, own = gate.enter(), gate.enter()
    worker = threading.Thread(target=gate.yield_to_new_questions, args=(own,))
    worker.start()
    time.sleep(0.2)
    assert worker.is_alive(), "an earlier question has the turn"
    earlier.release()
    worker.join(timeout=2)
    assert not worker.is_alive()
    later = gate.enter()
    started = time.perf_counter()
    gate.yield_to_new_questions(own)
    assert time.perf_counter() - started < 0.1, "own turn: later questions wait for it"
    later.release()
    own.release()


def test_questions_take_turns_in_arrival_order():
    gate = FirstTokenGate(max_turn_s=5)
    first, second, third = gate.enter(), gate.enter(), gate.enter()
    order = []

    def wait(ticket, name):
        ticket.wait_for_turn()
        order.append(name)

    first.wait_for_turn()  # the earliest question has the turn at once
    workers = [threading.Thread(target=wait, args=(t, n)) for t, n in
               ((third, "third"), (second, "second"))]
    for w in workers:
        w.start()
    time.sleep(0.2)
    assert order == [], "later questions wait while the first has no token yet"
    first.release()
    time.sleep(0.2)
    assert order == ["second"], "the turn goes to the next in arrival order"
    second.release()
    for w in workers:
        w.join(timeout=2)
    assert order == ["second", "third"]
    third.release()
    assert gate.waiting == 0


def test_a_turn_is_capped_so_a_stuck_question_blocks_no_one():
    gate = FirstTokenGate(max_turn_s=0.2)
    gate.enter()  # never released
    started = time.perf_counter()
    gate.enter().wait_for_turn()
    assert 0.15 < time.perf_counter() - started < 1
