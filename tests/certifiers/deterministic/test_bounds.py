"""The bounds of ``ibp`` and ``crown`` against the networks themselves: over random small
networks of every supported layer type, the margin bounds lie below the true margins at
random points and vertices of the clipped box, no certified input falls to PGD, the
methods are ordered (naive logit intervals <= ibp <= crown), and eps = 0 certifies
exactly the correctly classified inputs."""

from __future__ import annotations

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn

import certifiers
from certifiers.deterministic import UnsupportedLayerError, logit_bounds
from certifiers.deterministic.base import input_box
from certifiers.deterministic.testing import (
    box_points,
    check_attack,
    check_contains,
    check_exact_at_zero,
    check_radius,
    exact_model,
)
from tests.certifiers.deterministic.networks import (
    NetSpec,
    build,
    inputs,
    mixed_labels,
    net_specs,
)

METHODS = [("ibp", {}), ("crown", {}), ("crown", {"intermediate": "crown"})]
epsilons = st.floats(0.0, 0.3)


def methods_for(spec):
    """The certifiers that bound this network (crown has no max pooling)."""
    return [
        certifiers.get(name, **opts)
        for name, opts in METHODS
        if not (name == "crown" and spec.has_max_pool)
    ]


@given(spec=net_specs(), eps=epsilons)
def test_margin_bounds_hold_at_points_and_vertices_of_the_box(spec, eps):
    model = build(spec)
    x = inputs(spec)
    y = mixed_labels(model, x, spec.classes)
    for c in methods_for(spec):
        check_contains(c, model, x, y, eps, samples=64, seed=spec.seed % 1000)


@given(spec=net_specs(), eps=epsilons)
def test_logit_intervals_hold_at_points_and_vertices_of_the_box(spec, eps):
    model = build(spec)
    x = inputs(spec)
    box = logit_bounds(model, x, eps)
    eps_t = torch.full((len(x),), eps, dtype=torch.float64)
    points = box_points(input_box(x, eps_t), 64, torch.Generator().manual_seed(1))
    with torch.no_grad():
        z = exact_model(model)(points.reshape(-1, *x.shape[1:])).reshape(len(x), 64, -1)
    tol = 1e-9 * (1 + z.abs())
    assert (z >= box.lower.unsqueeze(1) - tol).all()
    assert (z <= box.upper.unsqueeze(1) + tol).all()


@given(spec=net_specs(max_pool=False), eps=epsilons)
def test_crown_bounds_at_least_ibp_and_ibp_at_least_naive_intervals(spec, eps):
    model = build(spec)
    x = inputs(spec)
    y = mixed_labels(model, x, spec.classes)
    logits = logit_bounds(model, x, eps)
    naive = logits.lower.gather(1, y.unsqueeze(1)) - logits.upper
    naive = naive.scatter(1, y.unsqueeze(1), 0.0)
    bounds = {}
    for name, opts in METHODS:
        c = certifiers.get(name, **opts)
        bounds[name, opts.get("intermediate")] = (
            c.margin_bounds(model, x, y, eps).detach(),
            c.certify(model, x, y, eps).certified,
        )
    ibp, ibp_cert = bounds["ibp", None]
    crown, crown_cert = bounds["crown", None]
    full, full_cert = bounds["crown", "crown"]
    tol = 1e-10 * (1 + naive.abs())
    assert (ibp >= naive - tol).all()
    assert (crown >= ibp - tol).all() and (full >= ibp - tol).all()
    assert not (ibp_cert & ~crown_cert).any() and not (ibp_cert & ~full_cert).any()
    naive_cert = naive.scatter(1, y.unsqueeze(1), torch.inf).amin(1) > 0
    assert not (naive_cert & ~ibp_cert).any()


@given(spec=net_specs())
def test_eps_zero_certifies_exactly_the_correctly_classified_inputs(spec):
    model = build(spec)
    x = inputs(spec, batch=8)
    y = mixed_labels(model, x, spec.classes)
    for c in methods_for(spec):
        check_exact_at_zero(c, model, x, y)


@settings(max_examples=25)
@given(spec=net_specs())
def test_no_certified_input_falls_to_pgd_with_restarts(spec):
    model = build(spec)
    x = inputs(spec, batch=8)
    with torch.no_grad():
        y = model(x).argmax(1)
    radius = certifiers.get("ibp").certified_radius(model, x, y)
    eps = float(radius.median())
    certified = 0
    for c in methods_for(spec):
        certified += check_attack(c, model, x, y, eps, seed=spec.seed % 1000)
    assert certified > 0  # the median radius certifies half the inputs: the check has teeth


@settings(max_examples=25)
@given(spec=net_specs())
def test_bisection_radius_is_certified(spec):
    model = build(spec)
    x = inputs(spec)
    y = mixed_labels(model, x, spec.classes)
    for c in methods_for(spec):
        check_radius(c, model, x, y)


def test_crown_refuses_max_pooling_that_ibp_bounds():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(2, 3),
    ).double().eval()  # fmt: skip
    x = torch.rand(2, 1, 4, 4, dtype=torch.float64)
    y = torch.tensor([0, 1])
    assert certifiers.get("ibp").certify(net, x, y, 0.01).margins.shape == (2, 3)
    with pytest.raises(UnsupportedLayerError, match=r"'2' \(MaxPool2d\).*use ibp"):
        certifiers.get("crown").certify(net, x, y, 0.01)


# the network on which full CROWN once gave input 0 a bound that depended on the other
# inputs' eps (refinement skipped where no input of the batch had an unstable neuron)
_BATCH_DEPENDENT = NetSpec(seed=169, conv=True, channels_in=2, size=4, normalize=False,
                           batch_norm=False, pool=None, residual="identity", dropout=False,
                           shifted=False, classes=5)  # fmt: skip


@settings(max_examples=25)
@given(spec=net_specs(), eps=epsilons, other=st.floats(0.0, 1.0))
@example(spec=_BATCH_DEPENDENT, eps=0.1810150146484375, other=0.5)
def test_an_inputs_bounds_do_not_depend_on_the_rest_of_its_batch(spec, eps, other):
    """Input 0's margin bounds alone at ``eps`` and in its batch, whose other inputs are
    at ``other``: the same up to rounding (a bisection certifies inputs in batches, and
    ``certify`` must then certify each of them at the radius found)."""
    model = build(spec)
    x = inputs(spec)
    y = mixed_labels(model, x, spec.classes)
    eps_batch = torch.tensor([eps] + [other] * (len(x) - 1), dtype=torch.float64)
    for c in methods_for(spec):
        alone = c.certify(model, x[:1], y[:1], eps).margins
        together = c.certify(model, x, y, eps_batch).margins[:1]
        torch.testing.assert_close(together, alone, rtol=1e-9, atol=1e-9)


@given(spec=net_specs(max_pool=False), eps=epsilons)
def test_ibp_folds_the_margins_through_a_nested_last_linear_layer(spec, eps):
    """Gowal et al.'s margins through the last linear layer do not depend on how the
    layers are nested: the same layers inside a Sequential inside the model give the
    margins of the flat model."""
    model = build(spec)
    nested = nn.Sequential(model).eval()
    x = inputs(spec)
    y = mixed_labels(model, x, spec.classes)
    c = certifiers.get("ibp")
    flat = c.margin_bounds(model, x, y, eps)
    assert torch.allclose(c.margin_bounds(nested, x, y, eps), flat, rtol=0, atol=1e-12)
