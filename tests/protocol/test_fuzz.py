"""100k random and mutated inputs through the decoder: only typed errors, no hang."""

from tools.fuzz_codec import run


def test_fuzz_100k_inputs_raise_only_typed_errors():
    stats = run(100_000, seed=2026)
    assert stats.inputs == 100_000
    # The mutations must reach message decoding, in both outcomes.
    assert stats.messages > 10_000
    assert stats.typed_errors > 10_000
