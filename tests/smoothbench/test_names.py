"""Messages for unknown names: every known name listed, the close ones offered first, and
nothing offered that is not known."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from smoothbench.names import close_names, did_you_mean, unknown_name

LETTERS = "abcdefghijklmnopqrstuvwxyz_"
WORDS = st.text(alphabet=LETTERS, min_size=5, max_size=20)
#: names without a repeated letter: difflib matches greedily by longest block, so in a
#: name like "aaaaaa" one changed letter can misalign the blocks ("aabaaa": ratio 0.5)
DISTINCT = st.lists(st.sampled_from(LETTERS), min_size=5, max_size=20, unique=True).map("".join)


@given(
    target=DISTINCT, others=st.lists(WORDS, max_size=2), where=st.integers(0, 19), data=st.data()
)
def test_a_one_letter_typo_of_a_known_name_is_offered(target, others, where, data):
    """One letter of a name of ``L >= 5`` distinct letters changed leaves the blocks
    before and after it aligned, so ``difflib``'s ratio is ``(L - 1) / L >= 0.8``, above
    its 0.6 cut-off; with at most three known names every one above the cut-off is
    offered."""
    i = where % len(target)
    letter = data.draw(st.sampled_from(LETTERS.replace(target[i], "")))
    typo = target[:i] + letter + target[i + 1 :]
    known = [target, *others]
    assert target in close_names(typo, known)
    assert f"did you mean {target!r}" in unknown_name("thing", typo, known) or (
        f"or {target!r}" in unknown_name("thing", typo, known)
    )


@given(name=st.text(max_size=12), known=st.lists(WORDS, min_size=1, max_size=12))
def test_the_message_lists_every_known_name_and_offers_only_known_ones(name, known):
    message = unknown_name("thing", name, known)
    assert message.startswith(f"unknown thing {name!r}; ")
    assert message.endswith(f"known: {sorted(known)}")
    offered = re.findall(r"'([^']*)'", did_you_mean(name, known))
    assert set(offered) <= set(known)
    assert len(offered) <= 3


def test_case_is_ignored_and_a_name_far_from_all_gets_no_offer():
    assert close_names("L2", ["l1", "l2", "linf"]) == ["l2"]
    assert "did you mean" not in unknown_name("norm", "zzz", ["l1", "l2", "linf"])
    assert "did you mean" not in unknown_name("norm", None, ["l1", "l2", "linf"])


def test_a_shared_prefix_takes_no_part_in_the_comparison():
    """``run.threads`` is no typo of ``run.n_test``: only the keys are compared."""
    keys = ["n_test", "n0", "seed", "device"]
    assert "did you mean" not in unknown_name("config key", "threads", keys, prefix="run.")
    message = unknown_name("config key", "sed", keys, prefix="run.")
    assert message.startswith("unknown config key 'run.sed'; did you mean 'run.seed'? ")
    assert message.endswith("known: ['run.device', 'run.n0', 'run.n_test', 'run.seed']")
