"""A short run of the fuzz target, so CI keeps it working (the long runs are manual)."""

from fuzzing.fuzz_protocol import SEEDS, one_input, random_inputs


def test_seeds_parse():
    for seed in SEEDS:
        one_input(seed)


def test_random_and_mutated_inputs_raise_only_protocol_errors():
    random_inputs(3000)
