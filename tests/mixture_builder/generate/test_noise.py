import pytest

from mixture_builder.generate.noise import NOISE_FUNCTIONS, add_noise, stable_seed

SAMPLE = (
    "Q: Why did the Sahara change?\nA: Between about eleven thousand and five thousand years ago the Sahara was "
    "green. Rock paintings show giraffes and hippos. Camel caravans later crossed it."
)


@pytest.mark.parametrize("name", sorted(NOISE_FUNCTIONS))
def test_each_function_changes_the_text_deterministically(name):
    import random

    first = NOISE_FUNCTIONS[name](SAMPLE, random.Random(7))
    again = NOISE_FUNCTIONS[name](SAMPLE, random.Random(7))
    assert first == again
    assert first != SAMPLE


def test_add_noise_records_what_changed_the_text():
    seen = set()
    for i in range(40):
        text, applied = add_noise(SAMPLE, stable_seed(42, "t", i), max_ops=2)
        assert text != SAMPLE
        assert 1 <= len(applied) <= 2 and set(applied) <= set(NOISE_FUNCTIONS)
        assert add_noise(SAMPLE, stable_seed(42, "t", i), max_ops=2) == (text, applied)
        seen.update(applied)
    assert seen == set(NOISE_FUNCTIONS)


def test_add_noise_restricted_functions_and_short_texts():
    text, applied = add_noise("Answer: True", 3, functions=["shuffled_sentences"])
    assert text != "Answer: True" and applied  # a no-op falls back to a function that changes the text
    with pytest.raises(ValueError, match="unknown noise function"):
        add_noise(SAMPLE, 1, functions=["typo"])


def test_stable_seed_is_stable():
    assert stable_seed("a", 1) == stable_seed("a", 1) != stable_seed("a", 2)
    assert stable_seed("x") == 0x2D711642B726B044  # the same on every machine and process
