"""Book structure: every chapter listed and executed in order, every labelled equation checked."""

import re
from pathlib import Path

import nbformat
import pytest
import yaml

from exderiv.ledger import EQUATION_LABEL, read_chapter

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

PASS_LINE = re.compile(r"^\[pass\] (\S+) \| ", re.MULTILINE)
FAIL_LINE = re.compile(r"^\[FAIL\] ", re.MULTILINE)
MAX_CODE_CELL_LINES = 30  # one idea per cell, within one screen

# Chapters whose source is an unsigned excerpt from the article aggregator (BOOK_PLAN: "the
# aggregator's article"): there is no author to cite, so they cite the literature they rebuild.
AGGREGATOR_SOURCED = {
    "generative-modelling", "autoregressive-models", "activations", "bias", "receptive-field",
    "dilated-convolution", "segmentation-metrics", "data-parallel", "api-export-decorators",
    "self-supervised",
}

# Values the issues ask the chapters to glue, so that prose and closing notes can quote them.
REQUIRED_GLUE = {
    "geometry/hubness": {
        "skew_uniform_d3", "skew_uniform_d20", "skew_uniform_d100",
        "skew_normal_d3", "skew_normal_d20", "skew_normal_d100", "corr_nk_dist_normal_d100",
    },
    "geometry/sparsity": {"criteria_table"},
    "densities/fourier-density": {
        f"{kind}_kl_{target}"
        for kind in ("fourier", "gmm")
        for target in ("mixture2", "student_t3", "skewed", "multimodal")
    },
    "diffusion/ddpm-demolish-build": {
        "ddpm_toy_mmd", "ddpm_toy_mmd_baseline", "ddpm_digits_classifier_acc",
    },
    "diffusion/ddpm-autoregressive-vae": {"elbo_sigma_beta", "elbo_sigma_tilde"},
    "diffusion/score-matching": {"loss_gap_spread", "loss_change"},
    "diffusion/rectified-flow": {
        "straightness_1rf", "straightness_2rf", "mmd_1step_1rf", "mmd_1step_2rf",
    },
    "vision/segmentation-metrics": {"segmentation_vs_torchmetrics_max_error"},
    "losses/bias": {"bias_grad_after_batchnorm"},
    "appendix/venus-transit": {"next_transit_year", "transit_gaps"},
    "densities/generative-modelling": {"forward_kl_sigma", "reverse_kl_sigma", "mixture_sigma"},
    "vision/dilated-convolution": {
        "gridding_hole_fraction_same_rate", "gridding_hole_fraction_hybrid",
    },
    "vision/receptive-field": {"rf_alexnet", "rf_vgg16", "rf_resnet18", "rf_resnet50"},
    "tokenisation/viterbi-sampling": {"first_rule_tv"},
    "densities/reparameterization": {"gumbel_max_pvalue", "grad_variance_ratio_score_over_reparam"},
    "densities/autoregressive-models": {"nll_independent", "nll_fvsbn", "nll_nade"},
    "engineering/self-supervised": {"infonce_bound", "true_mutual_information", "log_batch_size"},
    "densities/energy-models": {"langevin_pvalue", "ebm_mmd", "ebm_mmd_baseline"},
    "losses/smoothing": {"f1_cross_entropy", "f1_smooth"},
    "losses/train-accuracy": {
        "b_cross_entropy", "b_hinge_low", "b_hinge_high", "b_accuracy_low", "b_accuracy_high",
    },
    "losses/emo-loss": {"emo_vs_pot_max_error"},
    "densities/discrete-distributions": {"gumbel_softmax_max_error"},
    "tokenisation/large-vocab-continuation": {
        "continuation_error_cut_inside", "continuation_error_fixed",
    },
    "densities/gan-dynamics": {"radius_growth_simultaneous", "radius_final_penalty"},
    "losses/activations": {
        "gelu_tanh_max_error", "gelu_tanh_max_error_at", "gelu_sigmoid_max_error",
    },
    "losses/multilabel-n-m": {"m2_reduction_error"},
    "engineering/model-internals-and-ema": {"ema_vs_torch_max_error"},
    "engineering/data-parallel": {"ddp_max_param_diff", "ddp_mismatch_param_diff"},
    "engineering/api-export-decorators": {"mutants_caught"},
    "tokenisation/perfect-sampling": {"perfect_rule_tv", "sentencepiece_tv"},
    "sequences/relative-position-defect": {
        "probe_accuracy_relative_only", "probe_accuracy_fixed", "probe_accuracy_chance",
    },
    "sequences/rope": {"rope_peer_max_error"},
    "sequences/position-encodings": {
        "pe_t5_mismatches", "pe_learned_rows_moved", "pe_cnn_reach",
        *(f"pe_acc_{variant}_64" for variant in (
            "sinusoidal", "learned", "floater", "multiplicative", "shaw", "t5", "rope")),
    },
    "sequences/on-lstm": {"onlstm_depth_correlation", "onlstm_perplexity", "lstm_perplexity"},
    "sequences/ladder-side-tuning": {
        "lst_trainable_fraction", "lst_peak_memory_ratio", "acc_full", "acc_adapter", "acc_lst",
    },
    "sequences/dgcnn-extraction": {"dgcnn_f1"},
}


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def chapter_notebooks() -> list[Path]:
    return sorted(
        p for p in BOOK.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not p.name.startswith(".")
    )


def chapter_id(path: Path) -> str:
    return path.relative_to(BOOK).with_suffix("").as_posix()


def markdown_of(notebook) -> str:
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def code_cells(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code" and c.source.strip()]


def stream_text(notebook) -> str:
    return "".join(
        output.get("text", "")
        for cell in code_cells(notebook)
        for output in cell.outputs
        if output.output_type == "stream" and output.name == "stdout"
    )


NOTEBOOKS = chapter_notebooks()
IDS = [chapter_id(p) for p in NOTEBOOKS]


def test_toc_lists_every_notebook_and_nothing_missing():
    listed = set(toc_files())
    on_disk = {f"book/{chapter_id(p)}" for p in NOTEBOOKS}
    assert on_disk - listed == set(), "notebooks missing from _toc.yml"
    for entry in listed:
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb")]
        assert any(c.exists() for c in candidates), f"_toc.yml lists a missing file: {entry}"


def test_every_required_chapter_exists():
    assert set(REQUIRED_GLUE) <= set(IDS)


@pytest.fixture(params=NOTEBOOKS, ids=IDS)
def notebook_path(request) -> Path:
    return request.param


@pytest.fixture
def notebook(notebook_path):
    return nbformat.read(notebook_path, as_version=4)


def test_executed_in_order_from_a_fresh_kernel(notebook):
    cells = code_cells(notebook)
    assert cells, "a chapter without code checks nothing"
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"execution counts {counts}: refresh with tools/refresh_outputs.py"
    )


def test_no_errors_and_no_failed_checks_in_stored_outputs(notebook):
    for cell in code_cells(notebook):
        assert not any(o.output_type == "error" for o in cell.outputs), cell.source[:80]
    assert not FAIL_LINE.search(stream_text(notebook))


def test_every_labelled_equation_has_a_passing_check(notebook):
    labels = set(EQUATION_LABEL.findall(markdown_of(notebook)))
    checked = set(PASS_LINE.findall(stream_text(notebook)))
    assert labels - checked == set(), "labelled equations without a check"


def test_every_labelled_equation_has_a_check_that_catches_a_wrong_version(notebook_path):
    ledger = read_chapter(notebook_path, ROOT)
    demonstrated = {
        r.label for r in ledger.checks if r.passed and any(w.caught(r.tol) for w in r.wrong)
    }
    missing = set(ledger.equation_labels) - demonstrated
    assert missing == set(), "labelled equations whose checks show no wrong version failing"


def test_every_erratum_is_decided_by_a_passing_check_of_its_chapter(notebook_path):
    ledger = read_chapter(notebook_path, ROOT)
    passing = {r.label for r in ledger.checks if r.passed}
    for entry in ledger.errata:
        assert entry.decided_by in passing, f"erratum of {entry.source} points at no check"


def test_no_volatile_metadata(notebook):
    for cell in notebook.cells:
        assert "execution" not in cell.metadata, "timestamps: refresh with tools/refresh_outputs.py"


def test_code_cells_are_short(notebook):
    long_cells = [
        cell.source.splitlines()[0]
        for cell in code_cells(notebook)
        if len(cell.source.splitlines()) > MAX_CODE_CELL_LINES
    ]
    assert long_cells == [], f"code cells over {MAX_CODE_CELL_LINES} lines: split them"


def test_figures_have_alt_text(notebook):
    for cell in code_cells(notebook):
        mystnb = cell.metadata.get("mystnb", {})
        if "figure" in mystnb:
            alt = mystnb.get("image", {}).get("alt", "")
            assert len(alt.split()) >= 5, f"figure without alt text: {cell.source[:80]}"


def test_chapter_ends_with_verified_table_exercises_and_references(notebook_path, notebook):
    slug = notebook_path.stem
    text = markdown_of(notebook)
    assert any("verified_table()" in cell.source for cell in code_cells(notebook))
    assert "{exercise}" in text
    assert "{solution}" in text or "{solution-start}" in text
    assert re.search(r"```\{bibliography\}[^`]*:keyprefix: " + re.escape(slug) + "-", text), (
        f"the chapter's bibliography must use :keyprefix: {slug}-"
    )
    source = r"-su20\d\d" if slug not in AGGREGATOR_SOURCED else "-"
    assert re.search(r"\{cite:[pt]\}`" + re.escape(slug) + source, text), (
        "the chapter must cite its source article"
        if slug not in AGGREGATOR_SOURCED else "the chapter must cite the literature it rebuilds"
    )


def test_bibliography_label_prefixes_are_unique_across_chapters():
    prefixes = {}
    for path in NOTEBOOKS:
        text = markdown_of(nbformat.read(path, as_version=4))
        found = re.findall(r"^:labelprefix: *(\S+)", text, re.MULTILINE)
        assert len(found) == 1, f"{chapter_id(path)}: one bibliography with a :labelprefix:"
        prefixes.setdefault(found[0], []).append(chapter_id(path))
    assert {p: c for p, c in prefixes.items() if len(c) > 1} == {}


def test_every_bibliography_entry_is_cited():
    """references.bib holds what the chapters cite and nothing else (chapters cite
    `<slug>-<key>`; the pages in book/*.md cite `<key>`)."""
    text = "\n".join(markdown_of(nbformat.read(path, as_version=4)) for path in NOTEBOOKS)
    text += "\n".join(page.read_text() for page in (ROOT / "book").glob("*.md"))
    cited = {
        key.strip()
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text)
        for key in group.split(",")
    }
    entries = re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text(), re.MULTILINE)
    assert len(entries) == len(set(entries)), "a key appears twice in references.bib"
    uncited = [key for key in entries if not any(c == key or c.endswith("-" + key) for c in cited)]
    assert uncited == [], f"entries no chapter cites: {uncited}"


def test_figures_have_images_and_plot_cells_echo_nothing(notebook):
    for cell in code_cells(notebook):
        if "figure" in cell.metadata.get("mystnb", {}):
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source[:80]
        echoed = [
            o["data"].get("text/plain", "")
            for o in cell.outputs
            if o.output_type == "execute_result"
        ]
        assert not any(re.search(r"<matplotlib\.|^Text\(", e) for e in echoed), cell.source[:80]
        # a check's or an erratum's record, echoed, repeats its printed line in full precision
        assert not any(re.match(r"(CheckRecord|Erratum)\(", e) for e in echoed), (
            f"assign the record (_ = exderiv...): {cell.source[:80]}"
        )


def test_no_control_characters_in_cells(notebook):
    """A generator script that writes "\\theta" without a raw string stores a tab and "heta";
    "\\frac" becomes a form feed. The page then shows broken mathematics that no TeX check sees."""
    control = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\t]")
    for cell in notebook.cells:
        match = control.search(cell.source)
        assert not match, f"control character {match.group()!r} in: {cell.source[:80]!r}"


def test_no_widget_state(notebook):
    assert "widgets" not in notebook.metadata, "widget state makes the page load CDN scripts"


def test_required_values_are_glued(notebook_path, notebook):
    required = REQUIRED_GLUE.get(chapter_id(notebook_path), set())
    glued = {
        output.get("metadata", {}).get("scrapbook", {}).get("name")
        for cell in code_cells(notebook)
        for output in cell.outputs
    }
    assert required - glued == set()


def test_the_intro_quotes_a_check_line_that_a_chapter_really_printed():
    intro = (BOOK / "intro.md").read_text()
    quoted = re.search(r"```text\n(\[pass\] [^\n]+)\n```", intro).group(1)
    printed = "".join(stream_text(nbformat.read(p, as_version=4)) for p in NOTEBOOKS)
    assert quoted in printed.splitlines(), "the intro's example check line is out of date"
