"""The demo page: its parts laid out with gr.Blocks (input and mask with the verdict; why this
answer: the neighbour, A_l, what the enrichment changed, the probability, A_2 and the words
view; the retrieval's candidates and what each would change; gates, variants and raw outputs
on request), wired to the handlers of :class:`~apps.demo.events.Demo`; its theme and CSS;
:func:`build_demo` and :func:`launch` (docs/design.md §7)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from apps.demo import maps, words
from apps.demo.events import Demo
from apps.demo.handlers import Handlers
from apps.demo.models import Models
from apps.demo.notes import EMPTY_TABLE, TITLE, VARIANT_LABEL, model_note
from apps.demo.outputs import GATES_HINT, OUTPUTS
from tvnet import default_assets

EXAMPLES = default_assets()["examples"]  # $TVNET_ASSETS/examples when set

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
# local fonts only: the page must not fetch from a font CDN (offline machines, privacy)
THEME = dict(
    primary_hue="cyan",
    secondary_hue="slate",
    neutral_hue="slate",
    font=SYSTEM_FONTS,
    font_mono=MONO_FONTS,
)
CSS = """
#intro h1 { margin-bottom: 0.2em; }
#model-note { font-size: 0.88em; padding: 0.6em 0.9em; border-radius: 8px;
              background: var(--background-fill-secondary); }
#status, #latency { font-size: 0.92em; }
#latency { color: var(--body-text-color-subdued); }
#examples td { padding: 3px 10px !important; }
#examples .container.table { width: 52px !important; height: 52px !important; }
#candidates { font-size: 0.9em; }
.verdict { font-size: 1.05em; color: #b45309; }
.stale-flag { background: #fef3c7; color: #78350f; border-left: 4px solid #d97706;
              padding: 0.45em 0.7em; border-radius: 4px; margin-bottom: 0.4em; }
/* a stale result: dimmed, and its candidates cannot be picked until Segment runs again */
.gradio-container:has(#status .stale-flag) :is(#result, #neighbour, #attention, #a2,
    #probability, #influence, #words, #candidates, #gates) { opacity: 0.45;
    filter: grayscale(0.7); }
.gradio-container:has(#status .stale-flag) :is(#candidates, #candidate) {
    pointer-events: none; }
"""
CSS += maps.CSS + words.CSS


PRIVATE = dict(api_visibility="private")
CAND_NOTE = (
    "Runs the model once per candidate (a few seconds) and adds a **mask change** column: the "
    "share of this answer's mask that would change with that neighbour instead."
)
LOADING_NOTE = (
    "**Model:** loading … (the page works already; a first answer waits until the weights "
    "are in, a few seconds)"
)


def page(handlers: Demo, examples: Path | None = None, concurrency: int = 1) -> gr.Blocks:
    """The page, its parts wired to ``handlers`` and its queue set (``concurrency`` model calls
    at once); ``examples``: an examples.json (default ``assets/examples/examples.json``)."""
    models = handlers.models
    ui = SimpleNamespace()
    # delete_cache: uploads and outputs older than an hour go, checked every 30 minutes
    with gr.Blocks(title="TV-Net demo", analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        gr.Markdown(
            f"# {TITLE}\nType what to find: TV-Net (ACM MM 2021) segments it, and this page "
            "shows why — the similar sample its **retrieval** fetched from the training "
            "pool, where the input **attends** in that sample, where **AMF** brings back "
            "detail, and how much of the answer the enrichment with it and each word account for. "
            "It says when it is unsure: a ✔ only for an answer it is confident in.",
            elem_id="intro",
        )
        note = gr.Markdown(
            model_note(models) if models.ready else LOADING_NOTE, elem_id="model-note"
        )
        if not models.ready:  # loading in the background: the note follows once it is in
            demo.load(handlers.model_note, None, note, concurrency_limit=None, **PRIVATE)
        # a closed page's answer is pinned no longer: visitors who left (and the one-off
        # sessions of API calls, which expire by use) do not keep others' answers out
        demo.unload(handlers.release)
        ui.state = gr.State(None)
        ui.compare_of = gr.State(None)  # the input the comparison on show answered
        input_and_mask(ui, models, examples)
        why_this_answer(ui)
        candidates(ui, models)
        on_request(ui, models)
        wire(ui, handlers)
    demo.queue(default_concurrency_limit=concurrency, max_size=256)
    demo.models = models  # for tests and benchmarks
    return demo


def input_and_mask(ui: SimpleNamespace, models: Models, examples: Path | None) -> None:
    """The input column (image, expression, variant, Segment, examples) beside the result."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            ui.image_in = gr.Image(
                label="Input image",
                type="filepath",
                sources=["upload", "clipboard"],
                height=340,
                elem_id="input-image",
            )
            ui.expr_in = gr.Textbox(
                label="Expression",
                placeholder="e.g. the small green star left of the blue square",
                max_lines=3,
                elem_id="expression",
            )
            with gr.Row(equal_height=True):
                ui.variant_in = gr.Radio(
                    choices=[(VARIANT_LABEL[v], v) for v in models.variants],
                    value=models.main,
                    label="Variant",
                    scale=3,
                    elem_id="variant",
                )
                # the answer averaged with the mirror image's, left and right swapped in the
                # expression (tvnet/inference/mirror.py): ≈ +1 oIoU on SynthRef, 2× the time
                ui.mirror_in = gr.Checkbox(
                    value=False,
                    label="Mirror averaging (2× time)",
                    scale=1,
                    elem_id="mirror",
                )
                ui.go = gr.Button("Segment", variant="primary", scale=1, elem_id="segment")
            ui.examples = example_list(examples, ui.image_in, ui.expr_in)
        with gr.Column(scale=1):
            ui.result = gr.Image(
                label="Predicted mask",
                interactive=False,
                height=340,
                format="jpeg",
                elem_id="result",
            )
            ui.status = gr.Markdown(
                "Upload an image (or click an example), type an expression, press **Segment**. "
                "A ✔ marks an answer the model is confident in; otherwise the reasons for "
                "doubt come first.",
                label="status",
                elem_id="status",
            )
            ui.latency = gr.Markdown(label="latency", elem_id="latency")


def why_this_answer(ui: SimpleNamespace) -> None:
    """Two rows of three: the neighbour, the attention A_l over it (with its level) and what
    the enrichment changed; the probability and the AMF gate A_2 over the input, and the words
    view. Every heat map has a colour bar with its range in its caption."""
    gr.Markdown("## Why this answer", elem_id="why")
    with gr.Row(equal_height=False):
        with gr.Column():
            ui.nb_img = gr.Image(
                label="Neighbour (RES stage 1)",
                interactive=False,
                height=300,
                format="jpeg",
                elem_id="neighbour",
            )
            ui.nb_md = gr.Markdown(label="neighbour caption", elem_id="neighbour-caption")
        with gr.Column():
            ui.att_img = gr.Image(
                label="Attention Aₗ (neighbour)",
                interactive=False,
                height=300,
                format="jpeg",
                elem_id="attention",
            )
            ui.att_md = gr.Markdown(label="attention caption", elem_id="attention-caption")
            with gr.Row(equal_height=True):
                ui.level_in = gr.Radio(
                    choices=[("A₃", 3), ("A₄", 4), ("A₅", 5)],
                    value=5,
                    label="Level",
                    scale=2,
                )
                ui.reset = gr.Button("Back to the referent", size="sm", scale=1)
        with gr.Column():
            ui.infl_img = gr.Image(
                label="Enrichment's influence",
                interactive=False,
                height=300,
                format="jpeg",
                elem_id="influence",
            )
            ui.infl_md = gr.Markdown(label="influence caption", elem_id="influence-caption")
    with gr.Row(equal_height=False):
        with gr.Column():
            ui.prob_img = gr.Image(
                label="Probability p(referent)",
                interactive=False,
                height=300,
                format="jpeg",
                elem_id="probability",
            )
            ui.prob_md = gr.Markdown(label="probability caption", elem_id="probability-caption")
        with gr.Column():
            ui.a2_img = gr.Image(
                label="AMF gate A₂",
                interactive=False,
                height=300,
                format="jpeg",
                elem_id="a2",
            )
            ui.a2_md = gr.Markdown(label="a2 caption", elem_id="a2-caption")
        with gr.Column():
            gr.Markdown("**Which words mattered**", elem_id="words-title")
            ui.words_go = gr.Button("Which words mattered?", size="sm", elem_id="words-go")
            ui.words_out = gr.HTML(words.HINT, elem_id="words")


def candidates(ui: SimpleNamespace, models: Models) -> None:
    """The retrieval's top-20: a choice of neighbour and the table (a row click chooses too)."""
    with gr.Accordion("Retrieval candidates: top 20 by text, re-ranked by image", open=True):
        gr.Markdown(
            "Retrieval keeps the 20 pool expressions closest to yours, re-ranks them by "
            "image similarity and uses the best (★). Choose another here, or click a "
            "row, to segment again with that neighbour."
        )
        ui.cand_in = gr.Dropdown(
            choices=[],
            label="Neighbour",
            interactive=models.retrieves(),
            elem_id="candidate",
        )
        with gr.Row(equal_height=True):
            ui.cand_go = gr.Button(
                "What would each neighbour change?", size="sm", scale=1, elem_id="cand-influence"
            )
            ui.cand_note = gr.Markdown(CAND_NOTE, elem_id="cand-influence-note")
        ui.cand_df = gr.Dataframe(
            value=EMPTY_TABLE,
            label="Candidates",
            interactive=False,
            wrap=True,
            max_height=400,
            elem_id="candidates",
        )


def on_request(ui: SimpleNamespace, models: Models) -> None:
    """The closed accordions: enrichment gates, variants side by side, raw outputs."""
    with gr.Accordion("Enrichment gates σ(Conv(Vₗ)) of Eq. 2", open=False):
        ui.gates_in = gr.Checkbox(label="Show the gates (channel mean, per level)")
        ui.gates_out = gr.Gallery(
            label="Enrichment gates over the input",
            show_label=False,
            columns=3,
            height="auto",
            object_fit="contain",
            format="jpeg",
            elem_id="gates",
        )
        ui.gates_md = gr.Markdown(GATES_HINT, elem_id="gates-caption")
    with gr.Accordion("Variants side by side", open=False):
        gr.Markdown(
            "Runs every variant whose checkpoint is present (the rows of the paper's "
            "Table 1) on the current image and expression."
        )
        ui.compare_go = gr.Button("Compare variants", elem_id="compare")
        ui.compare_out = gr.Gallery(
            label="Mask per variant",
            elem_id="compare-gallery",
            object_fit="contain",
            columns=max(1, len(models.variants)),
            height=300,
            format="jpeg",
        )
        ui.compare_md = gr.Markdown(label="variant table")
    with gr.Accordion("Raw outputs: binary mask and JSON summary", open=False):
        with gr.Row():
            ui.mask_out = gr.Image(label="Binary mask", interactive=False, format="png", height=240)
            ui.json_out = gr.JSON(label="Summary")


def wire(ui: SimpleNamespace, h: Demo) -> None:
    """The events: model calls queue on one concurrency group ("model"); redrawing the last
    result (a point, a level, the gates, the stale marking) runs beside them ("draw"). Five
    are public API endpoints: /segment, /choose_neighbour, /compare, /word_influence and
    /candidate_influence."""
    state = ui.state
    outputs = [ui.result, ui.status, ui.nb_img, ui.nb_md, ui.att_img, ui.att_md]
    outputs += [ui.a2_img, ui.a2_md, ui.gates_out, ui.cand_df, ui.cand_in, ui.latency]
    outputs += [ui.mask_out, ui.json_out, ui.prob_img, ui.prob_md, ui.infl_img, ui.infl_md]
    outputs += [ui.gates_md, ui.words_out, state]
    assert len(outputs) == len(OUTPUTS) + 1
    seg_inputs = [ui.image_in, ui.expr_in, ui.level_in, ui.gates_in, ui.variant_in, ui.mirror_in]
    # raw payloads (preprocess=False): the handlers read the upload themselves, so a
    # file that is not an image becomes a message rather than a Gradio error
    model = dict(outputs=outputs, concurrency_id="model", preprocess=False)
    hidden = dict(api_visibility="private")
    light = dict(concurrency_id="draw", concurrency_limit=4, **hidden)
    # a new image or expression: the result on show is marked stale (restored if changed back)
    stale = dict(outputs=ui.status, preprocess=False, trigger_mode="always_last", **light)
    check = (h.mark_stale, [state, ui.image_in, ui.expr_in])
    answers = [  # each model call's answer, checked against the inputs when it arrives: they
        # may have changed while it ran, after their own change event had marked the old one
        ui.go.click(
            h.segment,
            seg_inputs,
            api_name="segment",
            api_description="Segment what the expression refers to; returns " + ", ".join(OUTPUTS),
            **model,
        ),
        ui.expr_in.submit(h.segment, seg_inputs, **model, **hidden),
    ]
    if ui.examples is not None:
        answers.append(ui.examples.load_input_event.then(h.segment, seg_inputs, **model, **hidden))
    rerun = [state, ui.variant_in, ui.level_in, ui.gates_in, ui.image_in, ui.expr_in, ui.mirror_in]
    # "always_last": a change made while the last one runs is run after it with the controls as
    # they are then (Gradio's default, "once", drops it: the radio on one variant, the answer
    # another's)
    last = {"trigger_mode": "always_last"}
    answers.append(ui.variant_in.input(h.rerun_variant, rerun, **model, **hidden, **last))
    answers.append(ui.mirror_in.input(h.rerun_variant, rerun, **model, **hidden, **last))
    answers.append(
        ui.cand_in.input(
            h.choose_neighbour,
            [state, ui.cand_in, ui.level_in, ui.gates_in, ui.variant_in, ui.mirror_in],
            api_name="choose_neighbour",
            **model,
        )
    )
    answers.append(
        ui.cand_df.select(
            h.choose_row,
            [state, ui.level_in, ui.gates_in, ui.variant_in, ui.mirror_in],
            **model,
            **hidden,
        )
    )
    level_out, gates_out = [ui.att_img, ui.att_md], [ui.gates_out, ui.gates_md]
    for answer in answers:
        answer.then(*check, **stale)
        # the level or the gates' box changed while the model ran: the answer was drawn with
        # the values sent as it started, so it is drawn again with those shown now
        answer.then(h.change_level, [state, ui.level_in], level_out, **light)
        answer.then(h.toggle_gates, [state, ui.gates_in], gates_out, **light)
        # a new answer's table has no mask-change column: the note says how to get one again
        answer.then(lambda: CAND_NOTE, None, ui.cand_note, queue=False, **hidden)
    ui.compare_go.click(
        h.compare,
        [ui.image_in, ui.expr_in, ui.mirror_in],
        [ui.compare_out, ui.compare_md, ui.compare_of],
        api_name="compare",
        concurrency_id="model",
        preprocess=False,
    ).then(  # the input changed while it ran: not shown under "the current image"
        h.compare_fresh,
        [ui.compare_of, ui.image_in, ui.expr_in],
        [ui.compare_out, ui.compare_md],
        queue=False,
        preprocess=False,
        **hidden,
    )
    ui.words_go.click(
        h.word_influence,
        state,
        ui.words_out,
        api_name="word_influence",
        concurrency_id="model",
    )
    ui.cand_go.click(
        h.candidate_influence,
        state,
        [ui.cand_df, ui.cand_note],
        api_name="candidate_influence",
        concurrency_id="model",
    )
    for component in (ui.image_in, ui.expr_in):
        component.change(*check, **stale)
        # the variants side by side were of the inputs before: gone, not kept under a caption
        # that says "the current image"
        component.change(lambda: ([], ""), None, [ui.compare_out, ui.compare_md],
                         queue=False, **hidden)  # fmt: skip
    point_out = [ui.result, ui.att_img, ui.att_md]
    ui.image_in.select(h.point_on_input, [state, ui.level_in, ui.image_in], point_out,
                       preprocess=False, **light)  # fmt: skip
    ui.result.select(h.point_on_mask, [state, ui.level_in], point_out, **light)
    ui.reset.click(h.clear_point, [state, ui.level_in], point_out, **light)
    ui.level_in.change(h.change_level, [state, ui.level_in], level_out, **light)
    ui.gates_in.change(h.toggle_gates, [state, ui.gates_in], gates_out, **light)


def example_list(examples: Path | None, image_in, expr_in) -> gr.Examples | None:
    """gr.Examples from ``examples.json`` (image file + expression per entry)."""
    path = examples or EXAMPLES / "examples.json"
    if not path.is_file():
        return None
    rows = json.loads(path.read_text())
    return gr.Examples(
        examples=[[str(path.parent / e["image"]), e["expression"]] for e in rows],
        inputs=[image_in, expr_in],
        label="Examples (click to run): SynthRef test scenes, the default model's home "
        "ground, then scikit-image photos, out of its domain",
        examples_per_page=len(rows),
        elem_id="examples",
    )


def build_demo(
    checkpoint: str | Path | None = None,
    pool: str | Path | None = None,
    variants_dir: str | Path | None = None,
    device: str | None = None,
    pool_images: str | Path | None = None,
    examples: str | Path | None = None,
    concurrency: int = 1,
    models: Models | None = None,
    core: object | None = None,
) -> gr.Blocks:
    """The demo's Blocks, its model loaded (or ``models``, perhaps still loading in the
    background, or describing those that ``core`` holds) and its queue set.

    checkpoint: the main checkpoint folder (default: ``tvnet.default_checkpoint()``, i.e.
    ``assets/checkpoints/`` + ``tvnet.assets.DEFAULT_MODEL``); pool: the retrieval pool
    (default ``assets/pool``);
    variants_dir: where the other variants' checkpoint folders are looked for (default: the
    main checkpoint's parent folder); pool_images: the pool's images (default
    ``POOL/images``); examples: an examples.json (default ``assets/examples/examples.json``);
    concurrency: model calls at once (the rest wait in the queue)."""
    if models is None:
        models = Models(checkpoint, pool, variants_dir, device, pool_images)
    handlers = Demo(core if core is not None else Handlers(models), models)
    return page(handlers, Path(examples) if examples else None, concurrency)


def launch(
    demo: gr.Blocks,
    host: str = "127.0.0.1",
    port: int | None = None,
    block: bool = True,
    quiet: bool | None = None,
) -> str:
    """Serve ``demo`` (never through a share link); returns its local URL. ``block``: serve
    until interrupted; ``quiet`` (default: not ``block``): do not print the URL."""
    _, url, _ = demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=not block,
        max_file_size="30mb",
        theme=gr.themes.Soft(**THEME),
        css=CSS,
        footer_links=["api"],
        quiet=not block if quiet is None else quiet,
    )
    return url
