"""Results made by other codebases, in and out of a store: Cohen et al.'s certify TSV
(``cohen_tsv``: the file format; ``cohen_layout``: what their folder layout says about a
file; ``importing`` and ``exporting``: files <-> store)."""
