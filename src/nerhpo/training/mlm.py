"""Masked-language-model training, one epoch at a time: the scratch encoder's pretraining, the
continued pretraining of a local encoder, and the trials of the pretraining study.

:class:`MLMRun` holds everything an MLM run needs between epochs (model, tokenizer, encoded
text, optimizer, learning-rate schedule, batch order, random states), so a caller can drive its
epoch loop, score it on held-out text after any epoch, and checkpoint and resume it (a Ray Tune
trainable, ``nerhpo.search.pretrain_study``). :func:`pretrain` (the pretrain stage) runs the same
loop for ``model.scratch.pretrain_epochs`` and gives, for the same seed and settings, the same
weights, byte for byte, as the loop it replaced.

Casing of the pretraining text (``model.scratch.pretrain_casing``): ``both`` (the default and the
only behaviour before the setting existed) trains the tokenizer and the encoder on every
training sentence as it is and a lowercased copy of it; ``cased`` on the text as it is;
``lowercased`` on the lowercased copy only.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from nerhpo.training.model import (
    load_tokenizer,
    masked_lm_loss,
    quiet_transformers,
    scratch_config,
    train_wordpiece,
)
from nerhpo.training.schedule import warmup_linear_decay

log = logging.getLogger(__name__)

CASINGS = ("cased", "lowercased", "both")
DEFAULT_CASING = "both"  # the pretrain stage's behaviour before pretrain_casing existed
PROXY_MASK_PROBABILITY = 0.15  # held-out MLM loss: the same masks for every trial
MLM_CHECKPOINT_STATE = "mlm_state.json"


@dataclass
class MLMSettings:
    """The hyperparameters of one MLM run (what the pretraining study searches)."""

    learning_rate: float = 1e-3
    batch_size: int = 32
    epochs: int = 30  # the schedule's length: its linear decay reaches 0 after this many
    mask_probability: float = 0.15
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    casing: str = DEFAULT_CASING

    def __post_init__(self):
        if self.casing not in CASINGS:
            raise ValueError(f"pretrain casing {self.casing!r}: expected one of {CASINGS}")
        self.batch_size = int(self.batch_size)

    @classmethod
    def from_scratch(cls, scratch: dict, **overrides) -> MLMSettings:
        """The settings of ``model.scratch`` (the pretrain stage), with ``overrides``."""
        values = {
            "learning_rate": scratch["pretrain_learning_rate"],
            "batch_size": scratch["pretrain_batch_size"],
            "epochs": scratch["pretrain_epochs"],
            "casing": scratch.get("pretrain_casing", DEFAULT_CASING),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def warmup_steps(self, steps: int) -> int:
        # int(steps * 0.1 + 1e-9) == steps // 10: the warm-up the scratch encoder always had
        return max(1, int(steps * self.warmup_ratio + 1e-9))


def casing_texts(sentences: list[list[str]], casing: str = DEFAULT_CASING) -> list[list[str]]:
    """The pretraining text (pre-split words per sentence) of ``casing``; empty sentences out."""
    if casing not in CASINGS:
        raise ValueError(f"pretrain casing {casing!r}: expected one of {CASINGS}")
    words = [s for s in sentences if s]
    lower = [[w.lower() for w in s] for s in words]
    return {"cased": words, "lowercased": lower, "both": words + lower}[casing]


def heldout_split(
    sentences: list[list[str]], fraction: float, seed: int
) -> tuple[list[list[str]], list[list[str]]]:
    """(training, held-out) sentences: a seeded share ``fraction`` held out (at least one when
    ``fraction`` > 0 and there are two sentences), the rest in their order."""
    words = [s for s in sentences if s]
    if fraction <= 0 or len(words) < 2:
        return words, []
    n = min(len(words) - 1, max(1, round(fraction * len(words))))
    held = set(random.Random(seed).sample(range(len(words)), n))
    return (
        [s for i, s in enumerate(words) if i not in held],
        [s for i, s in enumerate(words) if i in held],
    )


def mlm_loss(model, batch):
    """The MLM loss: BERT's on the masked positions only (:func:`masked_lm_loss`), any other
    family's from its own forward pass."""
    if hasattr(model, "bert") and hasattr(model, "cls"):
        return masked_lm_loss(model, batch)
    return model(**batch).loss


class MLMRun:
    """One MLM run, stepped through epoch by epoch. Build it with :func:`scratch_run` or
    :func:`continued_run`; ``train_epoch`` trains one epoch, ``heldout_loss`` scores it."""

    def __init__(self, model, tokenizer, texts, settings: MLMSettings, seed: int, max_length: int):
        import torch
        from transformers import DataCollatorForLanguageModeling

        from nerhpo.training.precision import use_bf16

        self.device = next(model.parameters()).device
        self.bf16 = use_bf16(self.device)
        self.model, self.tokenizer, self.settings, self.seed = model, tokenizer, settings, seed
        self.max_length = max_length
        self.rng = random.Random(seed)
        self.encoded = self.encode(texts)
        self.collator = DataCollatorForLanguageModeling(
            tokenizer, mlm_probability=settings.mask_probability, return_tensors="pt"
        )
        batch_size = settings.batch_size
        self.steps = settings.epochs * math.ceil(len(self.encoded) / batch_size)
        self.warmup = settings.warmup_steps(self.steps)
        self.optim = torch.optim.AdamW(
            model.parameters(),
            lr=settings.learning_rate,
            weight_decay=settings.weight_decay,
            fused=self.device.type in ("cuda", "cpu"),  # one kernel, not a loop over 40 tensors
        )
        order = sorted(range(len(self.encoded)), key=lambda i: len(self.encoded[i]))
        self.batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        self.epoch = 0
        self.step = 0
        self.losses: list[float] = []
        self.heldout: list = []
        model.train()

    def encode(self, texts: list[list[str]]) -> list[list[int]]:
        return [
            self.tokenizer(
                s, is_split_into_words=True, truncation=True, max_length=self.max_length
            )["input_ids"]
            for s in texts
        ]

    def lr_at(self, step: int) -> float:
        """The learning rate at ``step``: what torch's LambdaLR gave the pretrain stage."""
        factor = warmup_linear_decay(step, self.steps, self.warmup, ramp=self.warmup)
        return self.settings.learning_rate * factor

    def train_epoch(self, label: str | None = None) -> float:
        """Train one epoch; return its mean MLM loss."""
        import torch

        from nerhpo.core.progress import progress

        self.model.train()
        self.rng.shuffle(self.batches)
        total, count = 0.0, 0
        label = label or f"MLM epoch {self.epoch + 1}/{self.settings.epochs}"
        for idx in progress(self.batches, label):
            batch = self.collator([{"input_ids": self.encoded[i]} for i in idx]).to(self.device)
            for group in self.optim.param_groups:
                group["lr"] = self.lr_at(self.step)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                loss = mlm_loss(self.model, batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.optim.step()
            self.optim.zero_grad(set_to_none=True)
            self.step += 1
            total, count = total + loss.item(), count + 1
        self.epoch += 1
        self.losses.append(total / max(1, count))
        return self.losses[-1]

    # -- held-out text: the proxy objective ------------------------------------------------
    def set_heldout(self, texts: list[list[str]], seed: int, batch_size: int = 64) -> None:
        """Mask ``texts`` once (``PROXY_MASK_PROBABILITY``, from ``seed``, without touching the
        run's own random state): every epoch and every trial is scored on the same masks."""
        import torch
        from transformers import DataCollatorForLanguageModeling

        collator = DataCollatorForLanguageModeling(
            self.tokenizer, mlm_probability=PROXY_MASK_PROBABILITY, return_tensors="pt"
        )
        encoded = self.encode(texts)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.heldout = [
                collator([{"input_ids": x} for x in encoded[i : i + batch_size]])
                for i in range(0, len(encoded), batch_size)
            ]

    def heldout_loss(self) -> float | None:
        """Mean cross-entropy over the masked held-out tokens (None without held-out text)."""
        import torch
        import torch.nn.functional as F

        total, count = 0.0, 0
        self.model.eval()
        with torch.no_grad():
            for batch in self.heldout:
                batch = batch.to(self.device)
                masked = batch["labels"] != -100
                n = int(masked.sum())
                if not n:
                    continue
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                    if hasattr(self.model, "bert") and hasattr(self.model, "cls"):
                        loss = masked_lm_loss(self.model, batch)
                    else:
                        logits = self.model(
                            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
                        ).logits[masked]
                        loss = F.cross_entropy(logits.float(), batch["labels"][masked])
                total, count = total + float(loss) * n, count + n
        self.model.train()
        return total / count if count else None

    # -- saving and checkpoints (safetensors for tensors, JSON for the rest) -----------------
    def save_encoder(self, directory: str | Path) -> None:
        """The encoder without its MLM head, and the tokenizer: what fine-tuning loads."""
        self.model.base_model.save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)

    def save_checkpoint(self, directory: str | Path) -> None:
        import torch
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(directory / "mlm", safe_serialization=True)
        state = {}
        params = [p for g in self.optim.param_groups for p in g["params"]]
        for i, p in enumerate(params):
            for key, value in self.optim.state.get(p, {}).items():
                state[f"{i}.{key}"] = (
                    value.detach().cpu().contiguous()
                    if torch.is_tensor(value)
                    else torch.tensor(value)
                )
        state["rng.torch"] = torch.get_rng_state()
        save_file(state, str(directory / "mlm_optimizer.safetensors"))
        version, internal, _ = self.rng.getstate()
        meta = {
            "epoch": self.epoch,
            "step": self.step,
            "losses": self.losses,
            "batches": self.batches,
            "python_rng": [version, list(internal)],
            "settings": asdict(self.settings),
        }
        (directory / MLM_CHECKPOINT_STATE).write_text(json.dumps(meta))

    def load_checkpoint(self, directory: str | Path) -> None:
        import torch
        from safetensors.torch import load_file

        directory = Path(directory)
        weights = load_file(str(directory / "mlm" / "model.safetensors"))
        missing, unexpected = self.model.load_state_dict(weights, strict=False)
        tied = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}
        if unexpected or [m for m in missing if "position_ids" not in m and m not in tied]:
            raise RuntimeError(f"{directory}: MLM checkpoint does not match the model")
        if hasattr(self.model, "tie_weights"):
            self.model.tie_weights()
        state = load_file(str(directory / "mlm_optimizer.safetensors"))
        torch.set_rng_state(state.pop("rng.torch"))
        params = [p for g in self.optim.param_groups for p in g["params"]]
        for i, p in enumerate(params):
            entries = {k.split(".", 1)[1]: v for k, v in state.items() if k.split(".")[0] == str(i)}
            if entries:
                self.optim.state[p] = {
                    k: v.to(self.device) if k != "step" else v for k, v in entries.items()
                }
        meta = json.loads((directory / MLM_CHECKPOINT_STATE).read_text())
        self.epoch, self.step, self.losses = meta["epoch"], meta["step"], meta["losses"]
        self.batches = [list(b) for b in meta["batches"]]
        version, internal = meta["python_rng"]
        self.rng.setstate((version, tuple(internal), None))


def scratch_run(
    train_sentences: list[list[str]], scratch: dict, seed: int, settings: MLMSettings | None = None
) -> MLMRun:
    """A new MLM run of the scratch encoder: a WordPiece tokenizer trained on the text of the
    settings' casing and a BERT of ``scratch``'s size, initialised from ``seed``."""
    import torch
    from transformers import BertForMaskedLM

    quiet_transformers()
    settings = settings or MLMSettings.from_scratch(scratch)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(seed)
    texts = casing_texts(train_sentences, settings.casing)
    tokenizer = train_wordpiece([" ".join(s) for s in texts], scratch["vocab_size"])
    model = BertForMaskedLM(scratch_config(len(tokenizer), scratch)).to(device)
    return MLMRun(model, tokenizer, texts, settings, seed, scratch["max_length"])


def continued_run(
    model_dir: str | Path,
    train_sentences: list[list[str]],
    settings: MLMSettings,
    seed: int,
    max_length: int,
) -> MLMRun:
    """A new MLM run that continues the pretraining of the local encoder in ``model_dir`` (its
    tokenizer kept; a masked-LM head the directory lacks starts at random, from ``seed``)."""
    import torch
    from transformers import AutoModelForMaskedLM

    from nerhpo.training.model import ModelLoadError, check_safe_weights

    quiet_transformers()
    check_safe_weights(Path(model_dir))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(seed)
    tokenizer = load_tokenizer(model_dir)
    if tokenizer.mask_token is None:
        raise ModelLoadError(f"{model_dir}: its tokenizer has no mask token; cannot run MLM")
    try:
        model = AutoModelForMaskedLM.from_pretrained(
            str(model_dir), use_safetensors=True, local_files_only=True, trust_remote_code=False
        ).to(device)
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"{model_dir}: cannot load as a masked LM offline: {err}") from None
    texts = casing_texts(train_sentences, settings.casing)
    return MLMRun(model, tokenizer, texts, settings, seed, max_length)


def pretrain(
    train_sentences: list[list[str]], scratch: dict, seed: int, out_dir: str | Path
) -> dict:
    """Train the tokenizer and MLM-pretrain a small BERT on the training text (the pretrain
    stage): ``model.scratch.pretrain_epochs`` epochs of :class:`MLMRun`.

    Writes a directory that ``load_token_classifier`` and ``load_tokenizer`` read; returns a
    summary (vocabulary, parameters, loss per epoch).
    """
    from nerhpo.core.atomic import atomic_directory

    started = time.perf_counter()
    run = scratch_run(train_sentences, scratch, seed)
    epochs = run.settings.epochs
    for epoch in range(epochs):
        loss = run.train_epoch(f"pretrain epoch {epoch + 1}/{epochs}")
        log.info("pretrain epoch %d/%d: MLM loss %.3f", epoch + 1, epochs, loss)
    summary = {
        "vocab_size": len(run.tokenizer),
        "parameters": sum(p.numel() for p in run.model.parameters()),
        "mlm_loss_per_epoch": [round(x, 4) for x in run.losses],
        "sentences": len(run.encoded),
        "seed": seed,
        # tokenizer and MLM training, without imports (nerhpo.analysis.runtime: where a run's time went)
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    if run.settings.casing != DEFAULT_CASING:
        summary["pretrain_casing"] = run.settings.casing
    with atomic_directory(out_dir) as tmp:
        run.model.bert.save_pretrained(tmp, safe_serialization=True)
        run.tokenizer.save_pretrained(tmp)
        (tmp / "pretrain.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def continue_pretraining(
    model_dir: str | Path,
    train_sentences: list[list[str]],
    continued: dict,
    seed: int,
    max_length: int,
    out_dir: str | Path,
) -> dict:
    """``model.continue_pretraining``: MLM on the corpus' training text for ``epochs`` epochs,
    starting from the local encoder in ``model_dir``; writes the encoder (without its MLM head)
    and the unchanged tokenizer to ``out_dir``."""
    from nerhpo.core.atomic import atomic_directory

    started = time.perf_counter()
    settings = MLMSettings(
        learning_rate=continued["learning_rate"],
        batch_size=continued.get("batch_size", 32),
        epochs=continued["epochs"],
        mask_probability=continued.get("mask_probability", 0.15),
        warmup_ratio=continued.get("warmup_ratio", 0.1),
        casing=continued.get("casing", DEFAULT_CASING),
    )
    run = continued_run(model_dir, train_sentences, settings, seed, max_length)
    for epoch in range(settings.epochs):
        loss = run.train_epoch(f"continued pretraining epoch {epoch + 1}/{settings.epochs}")
        log.info(
            "continued pretraining epoch %d/%d: MLM loss %.3f", epoch + 1, settings.epochs, loss
        )
    summary = {
        "name_or_path": str(model_dir),
        "continued_pretraining": asdict(settings),
        "parameters": sum(p.numel() for p in run.model.base_model.parameters()),
        "mlm_loss_per_epoch": [round(x, 4) for x in run.losses],
        "sentences": len(run.encoded),
        "seed": seed,
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    with atomic_directory(out_dir) as tmp:
        run.save_encoder(tmp)
        (tmp / "pretrain.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
