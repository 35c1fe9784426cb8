"""seqlab's training step computed by PyTorch: forward, backward, clipping by global norm, Adam, weight decay.

`TorchStep` replaces the NumPy part of one training step (CharModel.loss_and_grads, clip_by_global_norm,
Adam.step, the decay) and nothing else: batches, learning rate, evaluation, samples and checkpoints stay the
trainer's. It computes what the NumPy engine computes, in the same order:

- the parameters are the NumPy model's, as tensors by the same names and layout ("leaves"; torch's layout is
  a view of them, seqlab.torch_backend.module). On the CPU they share the arrays' memory, so the NumPy model and
  Adam are always current; on a GPU they stay there between steps, and `sync()` copies them (and Adam's
  moments) back when the trainer is about to read them: at evaluations, samples, checkpoints and the end.
- the loss and the gradient norm are checked before the update (the `check` given, the trainer's
  _check_finite): a step that would write NaN or inf into the parameters changes nothing. Both come from the
  device in one read, which the loss needed anyway; the update is queued after it and runs while the next
  step's masks are drawn.
- dropout and DropConnect masks are drawn from the model's own NumPy generator in seqlab's order (W_h of
  each layer, the embedded inputs, between the layers, before the Dense layer): the same masks, so a run can
  switch engines and continue exactly where it was.
- Adam is seqlab's formula on seqlab's moments (Adam.m, Adam.v, Adam.t), clipping seqlab's global norm.

Data-parallel (`world=(rank, size)`, torch.distributed already set up): every process takes the same whole
batch and masks, runs its own slice of the batch columns through DistributedDataParallel, whose all-reduce
averages the gradients; each slice's loss is divided by the whole batch's count (times `size`), so the
average is exactly the gradient of the whole batch: the step of one process with all of it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from seqlab.errors import UserError
from seqlab.torch_backend.module import (
    Masks,
    TorchCharModel,
    state_dict_from_leaves,
    states_from_torch,
    states_to_torch,
)


class _Net(nn.Module):
    """The leaves as parameters ("rnn.0.W_x" is "rnn_0_W_x": nn.Module names have no dots), and the forward
    of TorchCharModel run on them (so DistributedDataParallel can wrap it)."""

    def __init__(self, config: dict, leaves: dict[str, torch.Tensor], contiguous: bool):
        super().__init__()
        self.config, self.names, self.contiguous = config, list(leaves), contiguous
        for name, t in leaves.items():
            self.register_parameter(name.replace(".", "_"), nn.Parameter(t))   # shares t's memory
        self.template = [TorchCharModel(config, device="meta")]   # in a list: not a submodule

    def leaves(self) -> dict[str, nn.Parameter]:
        return {n: getattr(self, n.replace(".", "_")) for n in self.names}

    def forward(self, ids, state, masks: Masks, weight_masks):
        sd = state_dict_from_leaves(self.config, self.leaves(), weight_masks)
        if self.contiguous:   # cuDNN wants its weights packed; the transposed views are not
            sd = {k: v.contiguous() for k, v in sd.items()}
        return functional_call(self.template[0], sd, (ids, state, masks))


class TorchStep:
    """One training step of a CharModel on `device`, updating the model's parameters and `opt` (seqlab's Adam).

    step(ids_in (T, B), target (T, B), mask (T, B) bool or None, states (seqlab's list or None), lr)
    -> (loss sum in nats, predicted characters, final states as NumPy arrays), as the NumPy step returns;
    calling the object is the same. check(loss sum, count, gradient norm) raises to stop a step before its
    update. sync(): the model and `opt` brought up to date (a copy when a step has run since the last one).
    """

    share_cpu_memory = True   # False: copies on the CPU too, as on a GPU (how the tests run sync's bookkeeping)

    def __init__(self, model, opt, clip: float = 0.0, weight_decay: float = 0.0, device="cpu", world=None,
                 check=None):
        self.model, self.opt = model, opt
        self.clip, self.weight_decay = float(clip), float(weight_decay)
        self.check = check
        self.device = torch.device(device)
        self.rank, self.size = world or (0, 1)
        self.config = model.config()
        self.cell = self.config["cell"]
        live = [(f"{prefix}.{name}", p) for prefix, layer in model.named_layers() for name, p in layer.params.items()]
        if len(live) != len(opt.m) or any(p.shape != m.shape for (_, p), m in zip(live, opt.m)):
            raise ValueError("opt must be an Adam over this model's parameters, in their order")
        self.arrays = dict(live)                       # the NumPy model's own arrays
        self.share = self.device.type == "cpu" and self.share_cpu_memory
        self.behind = False                            # the arrays lag the tensors (a step since the last sync)
        self.net = _Net(self.config, self._tensors(self.arrays.values(), names=list(self.arrays)),
                        contiguous=self.device.type == "cuda")
        self.params = list(self.net.leaves().values())
        self.m = list(self._tensors(opt.m))
        self.v = list(self._tensors(opt.v))
        self.forward = self.net
        if self.size > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index or 0] if self.device.type == "cuda" else None
            self.forward = DistributedDataParallel(self.net, device_ids=ids)
        self.dtype = next(iter(self.arrays.values())).dtype

    def _tensors(self, arrays, names=None):
        ts = [torch.from_numpy(a) if self.share
              else torch.from_numpy(np.ascontiguousarray(a)).to(self.device, copy=True) for a in arrays]
        return dict(zip(names, ts)) if names is not None else ts

    # --- the masks, drawn as seqlab's CharModel draws them ---------------------------------------------
    def _mask(self, shape) -> np.ndarray:
        """A dropout mask for x of `shape` (T, B, ·): (1, B, ·) with variational dropout, as seqlab's."""
        if self.config.get("variational"):
            shape = (1, *shape[1:])
        keep = 1.0 - self.config["dropout"]
        return np.divide(self.model.drop_rng.random(shape) < keep, self.dtype.type(keep), dtype=self.dtype)

    def _draw_masks(self, T: int, B: int):
        """(DropConnect masks (H, G·H) per layer or None, Masks over the whole batch), as NumPy arrays."""
        c, rng = self.config, self.model.drop_rng
        weight = None
        if c["weight_drop"]:
            keep = 1.0 - c["weight_drop"]
            weight = [(rng.random(layer.params["W_h"].shape) < keep).astype(self.dtype) / self.dtype.type(keep)
                      for layer in self.model.rnn.layers]
        masks = Masks()
        if c["dropout"]:
            H, L, E = c["hidden"], c["layers"], c["embed"]
            masks.input = self._mask((T, B, E)) if E else None
            masks.between = [self._mask((T, B, H)) for _ in range(L - 1)]
            masks.output = self._mask((T, B, H))
        return weight, masks

    def _to(self, a):
        return None if a is None else torch.from_numpy(np.ascontiguousarray(a)).to(self.device)

    # --- the step ----------------------------------------------------------------------------------------
    def step(self, ids_in: np.ndarray, target: np.ndarray, mask, states, lr: float):
        T, B = ids_in.shape
        if B < self.size:   # the same in every process, so all of them stop here
            raise UserError(f"--devices {self.size}: a batch of {B} cannot be shared by {self.size} processes; "
                            f"use a larger --batch-size or fewer --devices")
        count = int(np.count_nonzero(mask)) if mask is not None else T * B
        weight_np, masks_np = self._draw_masks(T, B)
        cols = slice(*_share(B, self.rank, self.size))
        def mine(a):   # this process's columns of a whole-batch (T, B, ...) array
            return None if a is None else self._to(a[:, cols])

        masks = Masks(mine(masks_np.input), [mine(m) for m in masks_np.between or []], mine(masks_np.output))
        weight = None if weight_np is None else [self._to(w) for w in weight_np]
        state = None
        if states is not None:
            local = [tuple(x[cols] for x in s) if isinstance(s, tuple) else s[cols] for s in states]
            state = states_to_torch(local, self.cell, self.device)
        ids = mine(ids_in)
        for p in self.params:
            p.grad = None
        logits, state = self.forward(ids, state, masks, weight)
        V = logits.shape[-1]
        nll = F.cross_entropy(logits.reshape(-1, V), mine(target).reshape(-1), reduction="none")
        if mask is not None:
            nll = nll * mine(mask).reshape(-1).to(nll.dtype)
        loss_sum = nll.sum()
        (loss_sum * (self.size / max(count, 1))).backward()
        with torch.no_grad():
            loss = loss_sum.detach()
            if self.size > 1:
                import torch.distributed as dist

                dist.all_reduce(loss)
            norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in self.params))   # seqlab's, in float64
            loss_f, norm_f = torch.stack([loss.double(), norm]).tolist()   # waits for the device, once
            if self.check is not None:
                self.check(loss_f, count, norm_f)
            out_states = states_from_torch(state, self.cell)
            if self.clip:
                self._clip(norm)
            if self.weight_decay:   # seqlab's order, AdamW's: W ← W·(1 − lr·wd), then Adam's step
                keep = 1.0 - lr * self.weight_decay
                for p in self.params:
                    if p.ndim == 2:
                        p *= keep
            self._adam(lr)
        self.behind = not self.share
        if self.size > 1:
            out_states = _gather_states(out_states, self.size)
        return loss_f, count, out_states

    __call__ = step

    def _clip(self, norm: torch.Tensor) -> None:
        """seqlab's clip_by_global_norm: scale every gradient by clip/‖g‖ when ‖g‖ > clip."""
        scale = torch.clamp(self.clip / (norm + 1e-12), max=1.0)   # 1 (no change) when ‖g‖ ≤ clip
        for p in self.params:
            p.grad *= scale.to(p.grad.dtype)

    def _adam(self, lr: float) -> None:
        """seqlab.engine.optim.adam_update on every parameter, the same operations in the same order."""
        opt = self.opt
        opt.t += 1
        opt.lr = lr
        b1, b2, eps, t = opt.beta1, opt.beta2, opt.eps, opt.t
        root_c2 = math.sqrt(1.0 - b2 ** t)
        step = lr * root_c2 / (1.0 - b1 ** t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            denom = torch.sqrt(v)
            denom += eps * root_c2
            torch.div(m, denom, out=denom)
            p -= step * denom

    def sync(self) -> None:
        """Bring the NumPy model's parameters and Adam's moments up to date with the device's."""
        if self.behind:
            self._copy_back()
            self.behind = False

    def _copy_back(self) -> None:
        for a, p, m, v, tm, tv in zip(self.arrays.values(), self.params, self.opt.m, self.opt.v, self.m, self.v):
            a[...] = p.detach().cpu().numpy()
            m[...] = tm.cpu().numpy()
            v[...] = tv.cpu().numpy()


def _share(B: int, rank: int, size: int) -> tuple[int, int]:
    """Columns [lo, hi) of a batch of B that process `rank` of `size` takes (as even as it goes)."""
    return rank * B // size, (rank + 1) * B // size


def _gather_states(states, size: int):
    """Every process's slice of the final states, joined along the batch in rank order."""
    import torch.distributed as dist

    flat = [a for s in states for a in (s if isinstance(s, tuple) else (s,))]
    joined = []
    for a in flat:
        parts = [None] * size
        dist.all_gather_object(parts, a)
        joined.append(np.concatenate(parts, axis=0))
    if isinstance(states[0], tuple):
        return [(joined[2 * k], joined[2 * k + 1]) for k in range(len(states))]
    return joined


def make_step(run, check=None, group=None) -> TorchStep:
    """The trainer's step for cfg.backend == "torch": a TorchStep for a seqlab.text Run, on cfg.device,
    data-parallel over `group` (seqlab.torch_backend.distributed.world(): (rank, size), or None alone)."""
    from seqlab.torch_backend import resolve_device

    cfg = run.cfg
    return TorchStep(run.lm.model, run.opt, cfg.clip, cfg.weight_decay, resolve_device(cfg.device), group,
                     check)
