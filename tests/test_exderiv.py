"""Unit tests for the shared package: above all, that the check helper really fails."""

import math
import re

import matplotlib as mpl
import numpy as np
import pytest
import sympy
import torch

import exderiv


@pytest.fixture(autouse=True)
def fresh_records():
    exderiv.clear_checks()
    yield
    exderiv.clear_checks()


class TestCheck:
    def test_passing_check_prints_one_line_and_records(self, capsys):
        record = exderiv.check("eq-demo", "a claim", 1e-3, 1e-2)
        assert capsys.readouterr().out == (
            "[pass] eq-demo | a claim | err 1.0e-03 <= tol 1.0e-02\n"
        )
        assert record.passed
        assert exderiv.recorded_checks() == [record]

    def test_false_claim_raises_and_is_recorded_as_failed(self, capsys):
        with pytest.raises(exderiv.CheckFailed, match=r"\[FAIL\] eq-demo"):
            exderiv.check("eq-demo", "a false claim", 0.5, 0.1)
        assert "[FAIL] eq-demo" in capsys.readouterr().out
        assert not exderiv.recorded_checks()[0].passed

    def test_nan_error_fails(self):
        with pytest.raises(exderiv.CheckFailed):
            exderiv.check("eq-demo", "nan", float("nan"), 1.0)

    def test_error_equal_to_tolerance_passes(self):
        assert exderiv.check("eq-demo", "boundary", 0.25, 0.25).passed

    @pytest.mark.parametrize("label", ["", "Eq-Demo", "eq demo", "-eq", None, 3])
    def test_bad_label_is_rejected(self, label):
        with pytest.raises(ValueError, match="label"):
            exderiv.check(label, "claim", 0.0, 1.0)

    def test_empty_claim_is_rejected(self):
        with pytest.raises(ValueError, match="claim"):
            exderiv.check("eq-demo", "  ", 0.0, 1.0)

    @pytest.mark.parametrize("tol", [-1.0, float("inf"), float("nan")])
    def test_bad_tolerance_is_rejected(self, tol):
        with pytest.raises(ValueError, match="tol"):
            exderiv.check("eq-demo", "claim", 0.0, tol)

    def test_negative_error_is_rejected(self):
        with pytest.raises(ValueError, match="non-negative"):
            exderiv.check("eq-demo", "claim", -1e-3, 1.0)

    def test_accepts_tensor_array_and_sympy_scalars(self):
        exderiv.check("eq-demo", "tensor", torch.tensor(1e-4), 1e-3)
        exderiv.check("eq-demo", "array", np.array([1e-4]), 1e-3)
        x = sympy.symbols("x")
        residual = sympy.simplify(sympy.sin(x) ** 2 + sympy.cos(x) ** 2 - 1)
        exderiv.check("eq-demo", "sympy", residual, 0)

    def test_symbolic_residual_with_free_symbols_is_a_type_error(self):
        x = sympy.symbols("x")
        with pytest.raises(TypeError, match="SymPy"):
            exderiv.check("eq-demo", "sympy", x - 1, 0)

    def test_non_scalar_error_is_a_type_error(self):
        with pytest.raises(TypeError, match="scalar"):
            exderiv.check("eq-demo", "vector", torch.ones(3), 1.0)
        with pytest.raises(TypeError, match="bool"):
            exderiv.check("eq-demo", "bool", True, 1.0)

    def test_rerunning_a_check_replaces_its_record(self):
        exderiv.check("eq-demo", "same claim", 0.2, 1.0)
        exderiv.check("eq-demo", "same claim", 0.1, 1.0)
        assert [r.error for r in exderiv.recorded_checks()] == [0.1]


class TestWrongVersions:
    def test_caught_versions_are_printed_on_the_check_line(self, capsys):
        record = exderiv.check(
            "eq-demo", "a claim", 1e-3, 1e-2, wrong={"sign flipped": 2.0, "factor 2": 0.5}
        )
        assert capsys.readouterr().out == (
            "[pass] eq-demo | a claim | err 1.0e-03 <= tol 1.0e-02 | "
            "catches: sign flipped (err 2.0e+00); factor 2 (err 5.0e-01)\n"
        )
        assert record.passed and [w.name for w in record.wrong] == ["sign flipped", "factor 2"]

    def test_a_wrong_version_that_also_passes_raises(self, capsys):
        with pytest.raises(exderiv.CheckFailed, match="cannot tell eq-demo from .*'factor 2'"):
            exderiv.check("eq-demo", "weak", 1e-3, 1e-2, wrong={"sign": 1.0, "factor 2": 5e-3})
        out = capsys.readouterr().out
        assert out.startswith("[FAIL] eq-demo") and "cannot tell from: factor 2" in out
        assert not exderiv.recorded_checks()[0].passed

    def test_nan_wrong_version_is_not_a_catch(self):
        with pytest.raises(ValueError, match="finite"):
            exderiv.check("eq-demo", "claim", 0.0, 1.0, wrong={"nan": float("nan")})

    def test_nan_error_still_fails_with_wrong_versions(self):
        with pytest.raises(exderiv.CheckFailed):
            exderiv.check("eq-demo", "nan", float("nan"), 1.0, wrong={"w": 2.0})

    @pytest.mark.parametrize("wrong", [{}, ["a"], {"": 1.0}, {"a; b": 1.0}, {"a | b": 1.0}])
    def test_bad_wrong_argument_is_rejected(self, wrong):
        with pytest.raises((TypeError, ValueError)):
            exderiv.check("eq-demo", "claim", 0.0, 1.0, wrong=wrong)

    def test_check_close_replaces_expected_by_each_wrong_version(self):
        x = torch.linspace(0, 1, 5, dtype=torch.float64)
        record = exderiv.check_close(
            "eq-demo", "closed form", x**2, x**2, 1e-12, wrong={"x^3": x**3, "2x^2": 2 * x**2}
        )
        assert [w.error for w in record.wrong] == pytest.approx([0.75**2 - 0.75**3, 1.0])

    def test_check_close_wrong_version_with_wrong_shape_is_an_error(self):
        with pytest.raises(ValueError, match="shapes differ"):
            exderiv.check_close("eq-demo", "c", [1.0, 2.0], [1.0, 2.0], 1e-9, wrong={"w": [1.0]})

    def test_check_formula_applies_one_comparison_to_every_version(self):
        grid = np.linspace(-1, 1, 11)
        record = exderiv.check_formula(
            "eq-demo", "derivative of x^2", lambda f: np.abs(f(grid) - 2 * grid).max(),
            lambda x: 2 * x, 1e-12, wrong={"x": lambda x: x, "sign": lambda x: -2 * x},
        )
        assert [w.error for w in record.wrong] == pytest.approx([1.0, 4.0])
        with pytest.raises(exderiv.CheckFailed, match="cannot tell"):
            exderiv.check_formula("eq-demo", "blind", lambda f: 0.0, 1, 1e-3, wrong={"w": 2})

    def test_verified_table_has_a_catches_column(self):
        exderiv.check("eq-demo", "a claim", 1e-3, 1e-2, wrong={"sign": 1.0})
        exderiv.check("eq-other", "no wrong versions", 0.0, 1e-2)
        table = exderiv.verified_table()
        assert list(table["catches"]) == ["sign (err 1.0e+00)", ""]


class TestResolution:
    def test_float32_inputs_cannot_carry_a_float64_tolerance(self):
        x = torch.tensor([0.1, 0.2])  # float32
        with pytest.raises(ValueError, match="round-off"):
            exderiv.check_close("eq-demo", "float32", x, x, 1e-12)
        exderiv.check_close("eq-demo", "float32 at its own resolution", x, x, 1e-6)
        exderiv.check_close("eq-demo", "float64", x.double(), x.double(), 1e-15)


class TestErrata:
    def test_erratum_needs_a_passing_deciding_check(self, capsys):
        with pytest.raises(LookupError, match="no check labelled"):
            exderiv.erratum(source="S", where="w", says="a", correct="b", decided_by="eq-demo")
        exderiv.check("eq-demo", "claim", 0.0, 1.0, wrong={"the source's version": 2.0})
        entry = exderiv.erratum(
            source="Su 2024", where="section 3", says="x", correct="y", decided_by="eq-demo"
        )
        assert capsys.readouterr().out.endswith(
            "[erratum] Su 2024 | section 3 | says: x | correct: y | decided by: eq-demo\n"
        )
        assert exderiv.recorded_errata() == [entry]
        exderiv.clear_checks()
        assert exderiv.recorded_errata() == []

    def test_erratum_fields_are_validated(self):
        exderiv.check("eq-demo", "claim", 0.0, 1.0)
        with pytest.raises(ValueError, match="says"):
            exderiv.erratum(source="S", where="w", says="a | b", correct="c", decided_by="eq-demo")
        with pytest.raises(ValueError, match="label"):
            exderiv.erratum(source="S", where="w", says="a", correct="c", decided_by="Eq demo")


class TestLedgerParsing:
    def test_check_lines_round_trip(self, capsys):
        from exderiv.ledger import parse_check_line

        record = exderiv.check(
            "eq-demo", "claim, with: punctuation (and brackets)", 1.25e-3, 1e-2,
            wrong={"t for t-1 (off by one)": 3.0, "sign": 0.5},
        )
        parsed = parse_check_line(record.line())
        assert parsed.label == record.label and parsed.claim == record.claim
        assert [(w.name, w.error) for w in parsed.wrong] == [
            ("t for t-1 (off by one)", 3.0), ("sign", 0.5)
        ]
        assert parse_check_line("just some output") is None
        with pytest.raises(ValueError):
            parse_check_line("[pass] eq-demo | claim | no error field")

    def test_erratum_lines_round_trip(self):
        from exderiv.ledger import parse_erratum_line

        entry = exderiv.Erratum("Su 2024", "section 3", "x", "y", "eq-demo")
        assert parse_erratum_line(entry.line()) == entry
        assert parse_erratum_line("[pass] eq-demo | c | err 0 <= tol 0") is None


class TestCheckClose:
    def test_absolute_error_is_the_max_difference(self):
        record = exderiv.check_close("eq-demo", "c", torch.tensor([1.0, 2.0]), [1.0, 2.5], 1.0)
        assert record.error == pytest.approx(0.5)

    def test_relative_error_is_normwise(self):
        record = exderiv.check_close("eq-demo", "c", [10.0, 0.0], [10.0, 1.0], 1.0, relative=True)
        assert record.error == pytest.approx(0.1)

    def test_disagreement_raises(self):
        with pytest.raises(exderiv.CheckFailed):
            exderiv.check_close("eq-demo", "c", [1.0, 2.0], [1.0, 2.1], 1e-3)

    def test_shape_mismatch_is_an_error_not_a_broadcast(self):
        with pytest.raises(ValueError, match="shapes differ"):
            exderiv.check_close("eq-demo", "c", torch.zeros(3, 1), torch.zeros(3), 1.0)

    def test_nan_in_actual_fails(self):
        with pytest.raises(exderiv.CheckFailed):
            exderiv.check_close("eq-demo", "c", [float("nan"), 1.0], [0.0, 1.0], 1.0)

    def test_empty_and_zero_reference_are_errors(self):
        with pytest.raises(ValueError, match="empty"):
            exderiv.check_close("eq-demo", "c", [], [], 1.0)
        with pytest.raises(ValueError, match="all zeros"):
            exderiv.check_close("eq-demo", "c", [1.0], [0.0], 1.0, relative=True)

    def test_non_numeric_input_is_a_type_error(self):
        with pytest.raises(TypeError, match="real numbers"):
            exderiv.check_close("eq-demo", "c", ["a"], [1.0], 1.0)


class TestVerifiedTable:
    def test_table_is_built_from_the_records(self):
        exderiv.check("eq-one", "first", 1e-5, 1e-4)
        exderiv.check_close("eq-two", "second", [1.0], [1.0], 1e-12)
        table = exderiv.verified_table()
        assert list(table.columns) == ["label", "claim", "error", "tolerance", "catches", "status"]
        assert table["label"].tolist() == ["eq-one", "eq-two"]
        assert table["status"].tolist() == ["pass", "pass"]
        assert table.loc[0, "error"] == "1.0e-05"

    def test_empty_table_is_an_error(self):
        with pytest.raises(RuntimeError, match="no checks"):
            exderiv.verified_table()


class TestSeeding:
    def test_same_seed_same_numbers(self):
        a = torch.randn(5, generator=exderiv.torch_generator(7))
        b = torch.randn(5, generator=exderiv.torch_generator(7))
        assert torch.equal(a, b)
        assert exderiv.numpy_generator(3).random() == exderiv.numpy_generator(3).random()

    @pytest.mark.parametrize("seed", [-1, 1.5, "1", True])
    def test_bad_seed_is_rejected(self, seed):
        with pytest.raises((TypeError, ValueError), match="seed"):
            exderiv.torch_generator(seed)


class TestMMD:
    def test_matches_a_direct_double_sum(self):
        gen = exderiv.torch_generator(0)
        x, y = torch.randn(6, 2, generator=gen), torch.randn(5, 2, generator=gen) + 0.5
        h = 0.7

        def k(a, b):
            return math.exp(-float(((a - b) ** 2).sum()) / (2 * h**2))

        xx = sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / 30
        yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
        xy = sum(k(x[i], y[j]) for i in range(6) for j in range(5)) / 30
        assert float(exderiv.gaussian_kernel_mmd2(x, y, h)) == pytest.approx(xx + yy - 2 * xy)

    def test_separates_different_laws(self):
        gen = exderiv.torch_generator(1)
        x, y = torch.randn(400, 2, generator=gen), torch.randn(400, 2, generator=gen)
        same = float(exderiv.gaussian_kernel_mmd2(x, y, 1.0))
        shifted = float(exderiv.gaussian_kernel_mmd2(x, y + 1.0, 1.0))
        assert abs(same) < 0.01 < shifted

    def test_bad_input(self):
        x = torch.zeros(4, 2)
        with pytest.raises(ValueError, match="dimension"):
            exderiv.gaussian_kernel_mmd2(x, torch.zeros(4, 3), 1.0)
        with pytest.raises(ValueError, match="bandwidth"):
            exderiv.gaussian_kernel_mmd2(x, x, 0.0)
        with pytest.raises(ValueError, match="2 rows"):
            exderiv.gaussian_kernel_mmd2(x[:1], x, 1.0)
        with pytest.raises(ValueError, match="NaN"):
            exderiv.gaussian_kernel_mmd2(torch.full((3, 2), float("nan")), x, 1.0)



class TestPearsonChiSquare:
    def test_hand_computed_value(self):
        # n = 60, expected 12, 18, 30: 4/12 + 4/18 + 0 = 5/9, 2 dof
        statistic, dof = exderiv.pearson_chi_square([10, 20, 30], [0.2, 0.3, 0.5])
        assert statistic == pytest.approx(5 / 9, rel=1e-14) and dof == 2

    def test_mapping_form_equals_array_form(self):
        law = {"a": 0.2, "b": 0.3, "c": 0.5}
        assert exderiv.pearson_chi_square({"c": 30, "a": 10, "b": 20}, law) == (
            exderiv.pearson_chi_square([10, 20, 30], [0.2, 0.3, 0.5]))
        # a category of the law that was never observed is a cell with O = 0
        statistic, dof = exderiv.pearson_chi_square({"a": 12, "b": 18}, law)
        assert statistic == pytest.approx(30.0) and dof == 2

    def test_pooling_rule(self):
        law = {"a": 0.5, "b": 0.45, "c": 0.03, "d": 0.02}
        counts = {"a": 48, "b": 44, "c": 6, "d": 2}
        # c and d are expected 3 and 2 times (< 5): one cell, O = 8, E = 5
        pooled = exderiv.pearson_chi_square(counts, law, pool_below=5)
        assert pooled[0] == pytest.approx(4 / 50 + 1 / 45 + 9 / 5) and pooled[1] == 2
        unpooled = exderiv.pearson_chi_square(counts, law)
        assert unpooled[0] == pytest.approx(4 / 50 + 1 / 45 + 9 / 3 + 0) and unpooled[1] == 3
        # n = 64, expected 32, 24, 4, 2, 2: a cell expected exactly
        # pool_below times stays on its own, the smaller ones share one cell
        dyadic = [0.5, 0.375, 1 / 16, 1 / 32, 1 / 32]
        sample = [30, 25, 5, 3, 1]
        assert exderiv.pearson_chi_square(sample, dyadic, pool_below=4)[1] == 3
        assert exderiv.pearson_chi_square(sample, dyadic, pool_below=4.5)[1] == 2
        statistic, _ = exderiv.pearson_chi_square(sample, dyadic, pool_below=4)
        assert statistic == pytest.approx(4 / 32 + 1 / 24 + 1 / 4 + 0 / 4)

    def test_degrees_of_freedom(self):
        # leading axes are independent samples: statistics and dof add up
        counts = torch.tensor([[10, 20, 30], [5, 5, 0]])
        probs = torch.tensor([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0]], dtype=torch.float64)
        statistic, dof = exderiv.pearson_chi_square(counts, probs)
        # row 2: its zero-probability cell was not observed and is left out
        assert dof == 2 + 1 and statistic == pytest.approx(5 / 9)
        assert exderiv.pearson_chi_square([7], [1.0]) == (0.0, 0)

    @pytest.mark.parametrize("pool_below", [None, 5])
    def test_samples_outside_the_support_make_the_statistic_large(self, pool_below):
        law = {"a": 0.5, "b": 0.49, "c": 0.01}
        inside = {"a": 500, "b": 490, "c": 10}
        base, base_dof = exderiv.pearson_chi_square(inside, law, pool_below=pool_below)
        # one sample of a category the law does not have: its own cell, never pooled
        statistic, dof = exderiv.pearson_chi_square(
            {**inside, "z": 1}, law, pool_below=pool_below)
        n = 1001
        assert statistic > 1 / (2 * n * 1e-9) and math.isfinite(statistic)
        assert dof == base_dof + 1 and base < 1
        # the same for a listed category of probability 0, in the array form
        statistic, _ = exderiv.pearson_chi_square([500, 490, 10, 1], [0.5, 0.49, 0.01, 0.0])
        assert statistic > 1 / (2 * n * 1e-9)

    def test_agrees_with_scipy(self):
        from scipy import stats

        gen = exderiv.numpy_generator(0)
        for k in (2, 5, 16):
            probs = gen.dirichlet(np.ones(k))
            counts = gen.multinomial(1000, probs)
            statistic, dof = exderiv.pearson_chi_square(counts, probs)
            reference = stats.chisquare(counts, 1000 * probs)
            assert statistic == pytest.approx(reference.statistic, rel=1e-12)
            assert stats.chi2.sf(statistic, dof) == pytest.approx(reference.pvalue, rel=1e-9)

    @pytest.mark.parametrize(("observed", "probabilities", "message"), [
        ([3, -1], [0.5, 0.5], "negative counts"),
        ([3, 1], [0.5, 0.6], "sum to 1 within 1e-09"),
        ([3, 1, 2], [0.5, 0.5], "differ in shape"),
        ([0, 0], [0.5, 0.5], "empty sample"),
        ([], [], "at least one cell"),
        ([3, float("nan")], [0.5, 0.5], "NaN"),
        ([3, 1], [float("nan"), 0.5], "NaN"),
        ([3, 1], [1.5, -0.5], "negative values"),
        ([3, 1.5], [0.5, 0.5], "whole numbers"),
        ({"a": 3}, [1.0], "both be mappings"),
        ({"a": 3}, {}, "empty law"),
        (["a", "b"], [0.5, 0.5], "real numbers"),
    ])
    def test_bad_input_is_a_clear_error(self, observed, probabilities, message):
        with pytest.raises(ValueError, match=message):
            exderiv.pearson_chi_square(observed, probabilities)

    @pytest.mark.parametrize("pool_below", [0, -1.0, float("nan"), "5"])
    def test_bad_pool_below(self, pool_below):
        with pytest.raises(ValueError, match="pool_below"):
            exderiv.pearson_chi_square([3, 1], [0.5, 0.5], pool_below=pool_below)


class TestModelsAndData:
    def test_time_conditioned_mlp_shapes_and_errors(self):
        net = exderiv.TimeConditionedMLP(dim=3, hidden=16, depth=2)
        assert net(torch.zeros(5, 3), torch.rand(5)).shape == (5, 3)
        with pytest.raises(ValueError, match="x must have shape"):
            net(torch.zeros(5, 2), torch.rand(5))
        with pytest.raises(ValueError, match="t must have shape"):
            net(torch.zeros(5, 3), torch.rand(5, 1))
        with pytest.raises(ValueError, match="hidden"):
            exderiv.TimeConditionedMLP(dim=3, hidden=0)

    def test_seeded_init_depends_on_the_seed_only(self):
        def build(seed):
            torch.manual_seed(1234 + seed)  # a different global state each time
            return exderiv.seeded_init_(torch.nn.Sequential(torch.nn.Linear(4, 3),
                                                            torch.nn.LayerNorm(3)), seed)

        assert torch.equal(build(0)[0].weight, build(0)[0].weight)
        assert not torch.equal(build(0)[0].weight, build(1)[0].weight)

    @pytest.mark.parametrize("layer", [torch.nn.Embedding(5, 4), torch.nn.Conv1d(4, 4, 3),
                                       torch.nn.LSTM(4, 4)])
    def test_seeded_init_refuses_layers_it_would_leave_on_the_global_generator(self, layer):
        with pytest.raises(ValueError, match="initialises nn.Linear only"):
            exderiv.seeded_init_(torch.nn.ModuleList([torch.nn.Linear(4, 4), layer]), 0)
        with pytest.raises(ValueError, match="no nn.Linear"):
            exderiv.seeded_init_(torch.nn.LayerNorm(4), 0)

    def test_ring_of_gaussians(self):
        points = exderiv.ring_of_gaussians(4000, seed=0, n_modes=4, radius=3.0, std=0.1)
        assert points.shape == (4000, 2) and points.dtype == torch.float32
        assert torch.equal(points, exderiv.ring_of_gaussians(4000, seed=0, n_modes=4, radius=3.0,
                                                             std=0.1))
        # Every point lies near one of the four centres (3, 0), (0, 3), (-3, 0), (0, -3).
        centres = torch.tensor([[3.0, 0.0], [0.0, 3.0], [-3.0, 0.0], [0.0, -3.0]])
        assert torch.cdist(points, centres).min(dim=1).values.max() < 0.1 * 6
        with pytest.raises(ValueError, match="std"):
            exderiv.ring_of_gaussians(10, seed=0, std=0.0)

    def test_digits(self):
        images, labels = exderiv.digits()
        assert images.shape == (1797, 64) and labels.shape == (1797,)
        assert float(images.min()) == 0.0 and float(images.max()) == 1.0
        with pytest.raises(TypeError, match="floating"):
            exderiv.digits(dtype=torch.int64)

    def test_progress_needs_a_description(self):
        assert list(exderiv.progress(range(3), "counting")) == [0, 1, 2]
        with pytest.raises(ValueError, match="desc"):
            exderiv.progress(range(3), "")

    def test_book_style_sets_rcparams(self):
        exderiv.use_book_style()
        assert mpl.rcParams["axes.grid"] is True
        assert mpl.rcParams["axes.prop_cycle"].by_key()["color"][0] == exderiv.BOOK_COLORS[0]


class TestClearOfRounding:
    def test_values_away_from_a_step_come_back_unchanged(self):
        values = np.array([0.5347, 0.995574, -0.0123])
        assert exderiv.clear_of_rounding(values, 2, margin=1e-4) is values
        assert exderiv.clear_of_rounding(0.81, 2, margin=1e-3) == 0.81
        assert exderiv.clear_of_rounding(torch.tensor([[1.0, 0.22]]), 1, margin=0.01) is not None

    @pytest.mark.parametrize("value, decimals, distance", [
        (0.5347, 2, "3.0e-04"), (0.99501, 2, "1.0e-05"), (-0.0151, 2, "1.0e-04"),
        (5.2548, 2, "2.0e-04"), (2.5, 0, "0.0e+00"),
    ])
    def test_a_value_next_to_a_step_is_refused(self, value, decimals, distance):
        with pytest.raises(ValueError, match=rf"lies {re.escape(distance)} from a rounding step"):
            exderiv.clear_of_rounding([0.1, value], decimals, margin=4e-4)

    @pytest.mark.parametrize("values, decimals, margin, message", [
        ([0.1], 2, 0.005, "margin"), ([0.1], 2, 0, "margin"), ([0.1], 2, True, "margin"),
        ([0.1], -1, 1e-4, "decimals"), ([0.1], 2.0, 1e-4, "decimals"),
        ([], 2, 1e-4, "no values"), ([0.1, float("nan")], 2, 1e-4, "NaN"),
    ])
    def test_bad_input_is_a_clear_error(self, values, decimals, margin, message):
        with pytest.raises(ValueError, match=message):
            exderiv.clear_of_rounding(values, decimals, margin=margin)


class TestTokenisation:
    LOG_P = {"a": -1.0, "b": -2.0, "ab": -1.5, "ba": -2.5, "aba": -4.0}

    def test_make_corpus_is_reproducible_and_shaped(self):
        corpus = exderiv.make_corpus(5, seed=0)
        assert corpus == exderiv.make_corpus(5, seed=0)
        assert len(corpus) == 5
        # 6 to 15 words of 2 to 6 letters, consonant-vowel pairs
        assert all(12 <= len(s) <= 90 and len(s) % 2 == 0 for s in corpus)
        assert set("".join(corpus)) <= set("bdgklmnprstaeiou")
        with pytest.raises(ValueError, match="at least one sentence"):
            exderiv.make_corpus(0, seed=0)

    def test_random_substrings_are_substrings_of_the_right_length(self):
        sentences = ["abcdefgh", "ijklmnop"]
        out = exderiv.random_substrings(sentences, 20, (2, 5), seed=1)
        assert len(out) == 20
        assert all(2 <= len(t) <= 4 for t in out)
        assert all(any(t in s for s in sentences) for t in out)
        assert out == exderiv.random_substrings(sentences, 20, (2, 5), seed=1)
        with pytest.raises(ValueError, match="low < high"):
            exderiv.random_substrings(sentences, 3, (4, 4), seed=1)
        with pytest.raises(ValueError, match="shorter than"):
            exderiv.random_substrings(["abc"], 3, (2, 6), seed=1)

    def test_unigram_vocabulary_by_hand(self):
        log_p, counts = exderiv.unigram_vocabulary(["abab"], max_len=2,
                                                   min_count=2)
        # a: 2, b: 2, ab: 2 kept; ba: 1 dropped (not a single character)
        assert counts == {"a": 2, "b": 2, "ab": 2}
        assert log_p["ab"] == pytest.approx(math.log(2 / 6))
        with pytest.raises(ValueError, match="max_len >= 1"):
            exderiv.unigram_vocabulary(["ab"], max_len=0)
        with pytest.raises(ValueError, match="need sentences"):
            exderiv.unigram_vocabulary([])

    def test_lattice_lists_pieces_by_end_longest_first(self):
        assert exderiv.lattice("aba", self.LOG_P, max_len=3) == [
            [(0, -1.0)],
            [(0, -1.5), (1, -2.0)],
            [(0, -4.0), (1, -2.5), (2, -1.0)],
        ]
        # max_len = 2 drops the piece "aba"
        assert exderiv.lattice("aba", self.LOG_P, max_len=2)[2] == [
            (1, -2.5), (2, -1.0)]
        with pytest.raises(ValueError, match="non-empty string"):
            exderiv.lattice("", self.LOG_P)
        with pytest.raises(ValueError, match="max_len"):
            exderiv.lattice("ab", self.LOG_P, max_len=0)

    def test_segmentations_by_hand(self):
        found = exderiv.segmentations("aba", self.LOG_P, max_len=3)
        assert found == {(1, 2, 3): -4.0, (2, 3): -2.5, (1, 3): -3.5,
                         (3,): -4.0}
        assert len(exderiv.segmentations("aaaa", {"a": 0.0, "aa": 0.0})) == 5
        with pytest.raises(ValueError, match="1 to 14 characters"):
            exderiv.segmentations("a" * 15, {"a": 0.0})

    def test_cut_code_and_backtrace_codes_agree(self):
        assert exderiv.cut_code((1, 3)) == 2 + 8
        assert exderiv.cut_code(iter([3])) == 8
        with pytest.raises(ValueError, match="end positions"):
            exderiv.cut_code((0, 3))
        # "aba": row 0 is a|b|a, row 1 is ab|a, row 2 is aba
        back = torch.tensor([[0, 0, 1, 2], [0, 0, 0, 2], [0, 0, 0, 0]])
        assert exderiv.backtrace_codes(back).tolist() == [
            exderiv.cut_code(c) for c in [(1, 2, 3), (2, 3), (3,)]]
        with pytest.raises(ValueError, match="2-D"):
            exderiv.backtrace_codes(torch.zeros(4, dtype=torch.long))
        with pytest.raises(ValueError, match="torch.long"):
            exderiv.backtrace_codes(torch.zeros(1, 4))

    def test_bytepiece_tokenizer_uses_the_counts(self):
        pytest.importorskip("bytepiece")
        tokenizer = exderiv.bytepiece_tokenizer({"a": 5, "b": 1, "ab": 4},
                                                seed=0)
        assert [bytes(t) for t in tokenizer.tokenize("abab")] == [b"ab", b"ab"]
        with pytest.raises(ValueError, match="positive counts"):
            exderiv.bytepiece_tokenizer({"a": 0}, seed=0)

    def test_best_time_takes_the_shortest_run(self):
        calls = []
        assert exderiv.best_time(lambda: calls.append(1), repeats=4) >= 0
        assert len(calls) == 4
        with pytest.raises(ValueError, match="repeats"):
            exderiv.best_time(lambda: None, repeats=0)
