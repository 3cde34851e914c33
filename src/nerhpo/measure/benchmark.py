"""Throughput benchmark: the project's TrialTrainer against the Hugging Face Trainer.

One run trains the same randomly initialised BERT token classifier (same weights, same data,
same epochs, learning rate and maximum length) with

* ``seed``: ``transformers.Trainer`` at the seed's settings (fp32, per-device batch size 8,
  random sampling, every other argument at its default),
* ``trainer-best``: the Trainer at its best settings for comparison (our batch size,
  ``train_sampling_strategy="group_by_length"``, bf16 where the hardware has it),
* ``ours``: :class:`nerhpo.training.trainer.TrialTrainer` (length-sorted batches, static buckets
  and bf16 autocast where the GPU or CPU computes bf16 natively; optionally ``torch.compile``
  on CUDA),
* ``ours-packed-K`` (CUDA only): K independent trials trained at once in K processes on one GPU.

Each run yields one dict (a JSON line): real, non-pad tokens per second over training only,
the share of padding in what the model saw, peak GPU memory, the share of the GPU's peak bf16
FLOP/s reached (FLOPs estimated as 6 x parameters x tokens), and the seqeval entity F1 on the
dev data, computed the same way for every run (:func:`nerhpo.training.trainer.predict`). A last
dict compares ours with the two Trainer runs.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nerhpo.training.trainer import Encoded, TrialConfig

log = logging.getLogger(__name__)

RUNS = ("seed", "trainer-best", "ours")
SEED_BATCH_SIZE = 8  # transformers.TrainingArguments' per_device_train_batch_size default
SIZES: dict[str, dict[str, int]] = {
    "micro": {
        "hidden_size": 32,
        "num_layers": 1,
        "num_heads": 2,
        "intermediate_size": 64,
        "vocab_size": 1000,
    },
    "tiny": {
        "hidden_size": 256,
        "num_layers": 4,
        "num_heads": 4,
        "intermediate_size": 1024,
        "vocab_size": 8000,
    },
    "base": {
        "hidden_size": 768,
        "num_layers": 12,
        "num_heads": 12,
        "intermediate_size": 3072,
        "vocab_size": 30000,
    },
}
# dense bf16 peak FLOP/s by device-name fragment (vendor data sheets, without sparsity)
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12}


@dataclass
class BenchmarkOptions:
    """What to benchmark; the fields mirror the command-line flags of the script."""

    data: Path
    train_file: str = "NER-de-test.tsv"
    dev_file: str = "NER-de-dev.tsv"
    max_sentences: int | None = None  # caps the training and the dev sentences
    size: str = "tiny"
    hidden_size: int | None = None  # the size fields override the preset
    num_layers: int | None = None
    num_heads: int | None = None
    intermediate_size: int | None = None
    vocab_size: int | None = None
    epochs: int = 1
    lr: float = 5e-5
    batch_size: int = 32  # ours and trainer-best; seed uses SEED_BATCH_SIZE
    max_length: int = 128
    runs: tuple[str, ...] = RUNS
    threads: int | None = None
    seed: int = 0
    compile: bool = False  # CUDA only
    packed: int = 0  # CUDA only: K > 1 trials at once
    device: str | None = None  # default: cuda when available
    init: Path | None = None  # a pretrained encoder and its tokenizer instead of random weights
    batch_order: str = TrialConfig.batch_order  # ours: sorted (little padding) or random

    def model_size(self) -> dict[str, int]:
        if self.size not in SIZES:
            raise ValueError(f"unknown size {self.size!r}; expected one of {sorted(SIZES)}")
        size = dict(SIZES[self.size])
        for key in size:
            value = getattr(self, key)
            if value is not None:
                size[key] = int(value)
        if size["hidden_size"] % size["num_heads"]:
            raise ValueError(
                f"hidden size {size['hidden_size']} is not a multiple of "
                f"{size['num_heads']} attention heads"
            )
        return size


@dataclass
class Setup:
    """Everything the runs share: data, tokenizer, model configuration and initial weights."""

    train: Encoded
    dev: Encoded
    labels: list[str]
    pad_id: int
    model_config: Any  # transformers.BertConfig
    init_state: dict = field(repr=False)
    parameters: int
    device: str
    max_length: int  # subword tokens per sentence actually used (the encoder may allow fewer)
    tokenizer: Any = field(default=None, repr=False)


@contextlib.contextmanager
def stdout_to_stderr():
    """Send what libraries print (the Trainer's log dicts; the tokenizer trainer's progress,
    which Rust writes straight to file descriptor 1) to stderr, keeping stdout for JSON lines."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no file descriptors 1 and 2 to work with
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


# -- setup ---------------------------------------------------------------------------------------
def prepare(opts: BenchmarkOptions) -> Setup:
    """Read and encode the data, train the WordPiece tokenizer, build the seeded initial model."""
    import torch
    from transformers import BertForTokenClassification

    from nerhpo.data.corpus import entity_types, read_corpus
    from nerhpo.data.tags import label_list
    from nerhpo.training.model import scratch_config, train_wordpiece
    from nerhpo.training.trainer import encode

    data = Path(opts.data)
    train = read_corpus(data / opts.train_file)
    dev = read_corpus(data / opts.dev_file)
    if opts.max_sentences:
        train, dev = train[: opts.max_sentences], dev[: opts.max_sentences]
    labels = label_list(entity_types(train) | entity_types(dev))
    label2id = {label: i for i, label in enumerate(labels)}
    size = opts.model_size()
    max_length = opts.max_length
    torch.manual_seed(opts.seed)
    if opts.init:  # the same pretrained encoder for every run, with one seeded fresh head
        from nerhpo.training.model import load_token_classifier, load_tokenizer

        tokenizer = load_tokenizer(opts.init)
        model = load_token_classifier(opts.init, labels)
        config = model.config
        # the encoder's position table bounds the sentence length
        max_length = min(max_length, config.max_position_embeddings)
    else:
        tokenizer = train_wordpiece([" ".join(s.tokens) for s in train], size["vocab_size"])
        config = scratch_config(len(tokenizer), {**size, "max_length": max_length})
        config.num_labels = len(labels)
        config.id2label = dict(enumerate(labels))
        config.label2id = label2id
        model = BertForTokenClassification(config)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    device = opts.device or ("cuda" if torch.cuda.is_available() else "cpu")
    setup = Setup(
        train=encode(train, tokenizer, label2id, max_length),
        dev=encode(dev, tokenizer, label2id, max_length),
        labels=labels,
        pad_id=tokenizer.pad_token_id,
        model_config=config,
        init_state=state,
        parameters=sum(p.numel() for p in model.parameters()),
        device=device,
        max_length=max_length,
        tokenizer=tokenizer,
    )
    log.info(
        "%d training sentences (%d subword tokens), %d dev sentences, %d labels; "
        "BERT %s with %.2fM parameters, vocabulary %d; device %s",
        len(setup.train),
        setup.train.tokens,
        len(setup.dev),
        len(labels),
        f"from {opts.init}" if opts.init else size,
        setup.parameters / 1e6,
        len(tokenizer),
        device,
    )
    return setup


def fresh_model(setup: Setup):
    """A new model with the shared initial weights (so every run starts from the same point)."""
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_config(copy.deepcopy(setup.model_config))
    model.load_state_dict(setup.init_state)
    return model


def warm_up(setup: Setup, steps: int = 2) -> None:
    """A few untimed training steps on a throwaway model, so that whichever run comes first does
    not pay for thread pools, kernel selection and allocator growth."""
    import torch

    from nerhpo.training.precision import use_bf16
    from nerhpo.training.trainer import collate

    device = torch.device(setup.device)
    model = fresh_model(setup).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    for step in range(min(steps, len(setup.train))):
        idx = list(range(step, min(len(setup.train), step + SEED_BATCH_SIZE)))
        batch = {k: v.to(device) for k, v in collate(setup.train, idx, setup.pad_id).items()}
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16(device)):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    _sync(device)
    del model, optimizer


# -- measurement helpers -------------------------------------------------------------------------
def _sync(device) -> None:
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _reset_peak(device) -> None:
    import torch

    gc.collect()
    if torch.device(device).type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gb(device) -> float | None:
    import torch

    if torch.device(device).type != "cuda":
        return None
    return round(torch.cuda.max_memory_allocated() / 2**30, 3)


def device_name(device) -> str:
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return device.type


def peak_bf16_flops(device) -> float | None:
    """The GPU's dense bf16 peak from :data:`PEAK_BF16_FLOPS`; None on CPU or unknown GPUs."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device).upper()
    return next((v for k, v in PEAK_BF16_FLOPS.items() if k in name), None)


def _f1(model, setup: Setup, device) -> float:
    from nerhpo.training.trainer import f1_score, predict

    pred = predict(model, setup.dev, setup.pad_id, device=device)
    return round(f1_score(setup.dev.gold, pred), 4)


def _result(
    name: str,
    setup: Setup,
    *,
    real: int,
    padded: int,
    seconds: float,
    epochs: int,
    peak_mem,
    dev_f1: float,
    **extra,
) -> dict:
    seconds = max(seconds, 1e-9)
    tokens_per_s = real / seconds
    peak = peak_bf16_flops(setup.device)
    share = 6 * setup.parameters * tokens_per_s / peak if peak else None
    return {
        "run": name,
        "device": device_name(setup.device),
        "tokens_per_s": round(tokens_per_s, 1),
        "padding_share": round(1 - real / padded, 4) if padded else None,
        "peak_gpu_mem_gb": peak_mem,
        "bf16_peak_share": round(share, 5) if share is not None else None,
        "dev_f1": dev_f1,
        "epochs": epochs,
        "seconds": round(seconds, 3),
        "train_tokens": real,
        "padded_tokens": padded,
        **extra,
    }


# -- the Hugging Face Trainer runs ---------------------------------------------------------------
class CountingCollator:
    """``DataCollatorForTokenClassification`` that counts real and padded token positions."""

    def __init__(self, tokenizer):
        from transformers import DataCollatorForTokenClassification

        self.inner = DataCollatorForTokenClassification(tokenizer)
        self.real = 0
        self.padded = 0

    def __call__(self, features):
        batch = self.inner(features)
        mask = batch["attention_mask"]
        self.real += int(mask.sum())
        self.padded += mask.numel()
        return batch


def run_hf_trainer(setup: Setup, opts: BenchmarkOptions, best: bool) -> dict:
    """Train with ``transformers.Trainer``: seed settings, or (``best``) its best settings."""
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from nerhpo.training.precision import use_bf16

    device = torch.device(setup.device)

    class Timer(TrainerCallback):
        start = end = 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            _sync(device)
            self.start = time.perf_counter()

        def on_train_end(self, args, state, control, **kwargs):
            _sync(device)
            self.end = time.perf_counter()

    name = "trainer-best" if best else "seed"
    batch_size = opts.batch_size if best else SEED_BATCH_SIZE
    bf16 = best and use_bf16(device)  # the same choice as ours: GPU bf16, CPU AVX512-BF16/AMX
    dataset = [
        {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}
        for ids, labels in zip(setup.train.input_ids, setup.train.labels)
    ]
    collator = CountingCollator(setup.tokenizer)
    timer = Timer()
    model = fresh_model(setup)
    _reset_peak(device)
    with tempfile.TemporaryDirectory(prefix="nerhpo-bench-") as out:
        kwargs: dict[str, Any] = {
            "output_dir": out,
            "per_device_train_batch_size": batch_size,
            "num_train_epochs": opts.epochs,
            "learning_rate": opts.lr,
            # bookkeeping only, no effect on training: no checkpoints, no progress bar
            "save_strategy": "no",
            "report_to": "none",
            "disable_tqdm": True,
        }
        if device.type == "cpu":
            kwargs["use_cpu"] = True
        if best:
            kwargs.update(train_sampling_strategy="group_by_length", bf16=bf16)
        args = TrainingArguments(**kwargs)
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=dataset,
            data_collator=collator,
            callbacks=[timer],
        )
        log.info("%s: transformers.Trainer, batch size %d, bf16 %s", name, batch_size, bf16)
        trainer.train()
        peak_mem = _peak_gb(device)
        dev_f1 = _f1(trainer.model, setup, device)
    return _result(
        name,
        setup,
        real=collator.real,
        padded=collator.padded,
        seconds=timer.end - timer.start,
        epochs=opts.epochs,
        peak_mem=peak_mem,
        dev_f1=dev_f1,
        batch_size=batch_size,
        bf16=bf16,
        sampling="group_by_length" if best else "random",
    )


# -- our trainer ---------------------------------------------------------------------------------
def trial_config(setup: Setup, opts: BenchmarkOptions, seed: int):
    """TrialTrainer's configuration matching the Trainer's defaults (no warmup, no weight decay,
    linear decay, BERT's dropout) at the benchmark's learning rate and epochs."""
    from nerhpo.training.trainer import TrialConfig

    cfg = setup.model_config
    return TrialConfig(
        learning_rate=opts.lr,
        weight_decay=0.0,
        warmup_ratio=0.0,
        attention_dropout=cfg.attention_probs_dropout_prob,
        hidden_dropout=cfg.hidden_dropout_prob,
        batch_size=opts.batch_size,
        seed=seed,
        epochs=opts.epochs,
        batch_order=opts.batch_order,
    )


def _compiled(model):
    """``torch.compile(mode="reduce-overhead")`` (CUDA graphs): one graph per static bucket."""
    import torch

    for limit in ("recompile_limit", "cache_size_limit"):  # buckets x (full, last batch)
        if hasattr(torch._dynamo.config, limit):
            setattr(torch._dynamo.config, limit, max(getattr(torch._dynamo.config, limit), 64))
    compiled = torch.compile(model, mode="reduce-overhead", dynamic=False)

    class StepMarked(torch.nn.Module):
        """Tells CUDA graph trees that each forward starts a new training step."""

        def __init__(self):
            super().__init__()
            self.inner = compiled

        def forward(self, **batch):
            torch.compiler.cudagraph_mark_step_begin()
            return self.inner(**batch)

    return StepMarked()


def _train_ours(
    setup: Setup, opts: BenchmarkOptions, seed: int, compile_model: bool, barrier=None
) -> dict:
    """Train one trial with TrialTrainer and measure it; with ``barrier``, wait there once the
    model is built and on the device, so concurrent trials overlap in training only."""
    import torch

    from nerhpo.training.precision import use_bf16
    from nerhpo.training.trainer import TrialTrainer

    device = torch.device(setup.device)
    model = fresh_model(setup).to(device)
    raw = model
    if compile_model:
        model = _compiled(model)
    trainer = TrialTrainer(
        model, setup.train, setup.dev, trial_config(setup, opts, seed), setup.pad_id, device
    )
    if barrier is not None:
        barrier.wait()
    _sync(device)
    start_wall, start = time.time(), time.perf_counter()
    real = padded = 0
    for _ in range(opts.epochs):
        stats = trainer.train_epoch()
        real += stats["train_tokens"]
        padded += stats["padded_tokens"]
    _sync(device)
    seconds, end_wall = time.perf_counter() - start, time.time()
    return {
        "real": real,
        "padded": padded,
        "seconds": seconds,
        "start": start_wall,
        "end": end_wall,
        "peak_mem": _peak_gb(device),
        "dev_f1": _f1(raw, setup, device),
        "bf16": use_bf16(device),
    }


def run_ours(setup: Setup, opts: BenchmarkOptions, compile_model: bool = False) -> dict:
    _reset_peak(setup.device)
    log.info("ours: TrialTrainer, batch size %d, compile %s", opts.batch_size, compile_model)
    m = _train_ours(setup, opts, opts.seed, compile_model)
    return _result(
        "ours",
        setup,
        real=m["real"],
        padded=m["padded"],
        seconds=m["seconds"],
        epochs=opts.epochs,
        peak_mem=m["peak_mem"],
        dev_f1=m["dev_f1"],
        batch_size=opts.batch_size,
        bf16=m["bf16"],
        compiled=compile_model,
    )


def _packed_worker(rank: int, setup: Setup, opts: BenchmarkOptions, barrier, queue) -> None:
    """One of K concurrent trials (a spawned process); trains once all K are ready."""
    import torch

    if opts.threads:
        torch.set_num_threads(opts.threads)
    device = torch.device(setup.device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    warm_up(setup)
    _reset_peak(device)
    queue.put({"rank": rank, **_train_ours(setup, opts, opts.seed + rank, opts.compile, barrier)})


def run_packed(setup: Setup, opts: BenchmarkOptions, k: int) -> dict:
    """K independent trials at once, one process each, on one device; summed throughput."""
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(k), ctx.SimpleQueue()
    shared = replace(setup, tokenizer=None)  # workers need tensors and data, not the tokenizer
    log.info("ours-packed-%d: %d TrialTrainer processes on %s", k, k, setup.device)
    mp.spawn(_packed_worker, args=(shared, opts, barrier, queue), nprocs=k, join=True)
    trials = sorted((queue.get() for _ in range(k)), key=lambda m: m["rank"])
    wall = max(m["end"] for m in trials) - min(m["start"] for m in trials)
    mems = [m["peak_mem"] for m in trials]
    return _result(
        f"ours-packed-{k}",
        setup,
        real=sum(m["real"] for m in trials),
        padded=sum(m["padded"] for m in trials),
        seconds=wall,
        epochs=opts.epochs,
        peak_mem=round(sum(mems), 3) if None not in mems else None,
        dev_f1=round(sum(m["dev_f1"] for m in trials) / k, 4),
        batch_size=opts.batch_size,
        bf16=trials[0]["bf16"],
        compiled=opts.compile,
        trials=k,
        dev_f1_per_trial=[m["dev_f1"] for m in trials],
        seconds_per_trial=[round(m["seconds"], 3) for m in trials],
    )


# -- the benchmark -------------------------------------------------------------------------------
def _ratio(a: dict | None, b: dict | None) -> float | None:
    if not a or not b or not b["tokens_per_s"]:
        return None
    return round(a["tokens_per_s"] / b["tokens_per_s"], 3)


def _gap(a: dict | None, b: dict | None) -> float | None:
    return round(a["dev_f1"] - b["dev_f1"], 4) if a and b else None


def summary(results: list[dict], setup: Setup, opts: BenchmarkOptions) -> dict:
    by = {r["run"]: r for r in results}
    ours, seed, best = by.get("ours"), by.get("seed"), by.get("trainer-best")
    out = {
        "summary": True,
        "ratio_vs_seed": _ratio(ours, seed),
        "ratio_vs_trainer_best": _ratio(ours, best),
        "f1_gap": _gap(ours, best),  # ours minus trainer-best (same batch size)
        "f1_gap_vs_seed": _gap(ours, seed),
    }
    for r in results:
        if r["run"].startswith("ours-packed-"):
            out["packed_ratio_vs_ours"] = _ratio(r, ours)
            out["packed_ratio_vs_seed"] = _ratio(r, seed)
    out.update(
        device=device_name(setup.device),
        size=str(opts.init) if opts.init else opts.model_size(),
        parameters=setup.parameters,
        train_sentences=len(setup.train),
        train_subword_tokens=setup.train.tokens,
        dev_sentences=len(setup.dev),
        epochs=opts.epochs,
        lr=opts.lr,
        batch_size=opts.batch_size,
        seed_batch_size=SEED_BATCH_SIZE,
        max_length=setup.max_length,
        threads=opts.threads,
    )
    return out


def run_benchmark(opts: BenchmarkOptions, emit: Callable[[dict], None] | None = None) -> list[dict]:
    """Run the selected runs in order; ``emit`` gets each result as it is ready (then the summary)."""
    import torch

    unknown = set(opts.runs) - set(RUNS)
    if unknown:
        raise ValueError(f"unknown run(s) {sorted(unknown)}; expected some of {list(RUNS)}")
    if opts.epochs < 1 or opts.batch_size < 1 or opts.packed < 0:
        raise ValueError("epochs and batch size must be at least 1, packed at least 0")
    if opts.threads:
        torch.set_num_threads(opts.threads)
    emit = emit or (lambda _: None)
    with stdout_to_stderr():
        setup = prepare(opts)
        warm_up(setup)
    cuda = torch.device(setup.device).type == "cuda"
    if not cuda and (opts.compile or opts.packed):
        log.warning("--compile and --packed need CUDA; skipped on %s", setup.device)
    results = []
    for name in RUNS:
        if name not in opts.runs:
            continue
        with stdout_to_stderr():
            if name == "ours":
                result = run_ours(setup, opts, compile_model=cuda and opts.compile)
            else:
                result = run_hf_trainer(setup, opts, best=name == "trainer-best")
        results.append(result)
        emit(result)
    if cuda and opts.packed > 1:
        with stdout_to_stderr():
            result = run_packed(setup, opts, opts.packed)
        results.append(result)
        emit(result)
    results.append(summary(results, setup, opts))
    emit(results[-1])
    return results
