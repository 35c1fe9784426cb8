"""`seqlab train`'s flags come from TrainConfig's fields: every field has one, and every bundled model's recorded
"reproduce this" command parses back to the settings it was trained with."""

from __future__ import annotations

import shlex
from dataclasses import asdict, fields

import pytest

from seqlab.checkpoint import load_checkpoint
from seqlab.cli import build_parser, main
from seqlab.commands.train import config_from_args
from seqlab.errors import UserError
from seqlab.pretrained.build import DINOS_CONFIG, train_command
from seqlab.pretrained.shakespeare_recipe import SHAKESPEARE_CONFIG
from seqlab.text.model import CELLS, bundled_models, load_model, resolve_model
from seqlab.text.train_config import MODES, RUNTIME, TrainConfig, command_args, flag


def _parse(argv: list[str]) -> TrainConfig:
    return config_from_args(build_parser().parse_args(["train", "corpus.txt", "-o", "m.npz", *argv]))


def _other(f) -> object:
    """A valid value of field f other than its default."""
    if f.metadata["choices"]:
        return next(c for c in f.metadata["choices"] if c != f.default)
    if isinstance(f.default, bool):
        return not f.default
    if isinstance(f.default, str):    # a free-form string (--device)
        return "cuda:1"
    return f.default + (1 if isinstance(f.default, int) else 0.25)


def test_no_flags_give_the_defaults():
    assert _parse([]) == TrainConfig()


@pytest.mark.parametrize("name", [f.name for f in fields(TrainConfig)])
def test_every_field_has_a_flag_that_sets_it_alone(name):
    f = next(f for f in fields(TrainConfig) if f.name == name)
    value = _other(f)
    argv = [flag(f)] if isinstance(value, bool) else [flag(f), str(value)]
    cfg = _parse(argv)
    cfg.check()
    assert getattr(cfg, name) == value
    assert {k: v for k, v in asdict(cfg).items() if k != name} == \
           {k: v for k, v in asdict(TrainConfig()).items() if k != name}


def test_a_config_off_every_default_round_trips_through_its_command():
    cfg = TrainConfig(**{f.name: _other(f) for f in fields(TrainConfig)})
    cfg.check()
    assert _parse(command_args(cfg)) == cfg
    assert "--forget-bias 1.25" in " ".join(command_args(cfg)) and "--keep-case" in command_args(cfg)


def test_choices_are_the_codes_own_tables():
    actions = {a.dest: a for a in build_parser()._subparsers._group_actions[0].choices["train"]._actions}
    assert tuple(actions["cell"].choices) == tuple(CELLS) and tuple(actions["mode"].choices) == MODES
    with pytest.raises(UserError, match="--cell must be one of rnn, lstm, gru, got 'tanh'"):
        TrainConfig(cell="tanh").check()
    with pytest.raises(UserError, match=r"--weight-drop must be in \[0, 1\), got 1.0"):
        TrainConfig(weight_drop=1.0).check()


def test_every_bundled_models_command_reproduces_its_config():
    commanded = {}
    for name in bundled_models():
        _, meta = load_checkpoint(resolve_model(name))
        if "command" in meta:
            argv = shlex.split(meta["command"])
            assert argv[:2] == ["seqlab", "train"]
            args = build_parser().parse_args(argv[1:])
            assert config_from_args(args) == TrainConfig.from_json(meta["recipe"]), name
            recipe = {k: v for k, v in asdict(TrainConfig.from_json(meta["recipe"])).items() if k not in RUNTIME}
            # no field lost (how it ran, RUNTIME, is not a recipe's); a field added since the model was built
            # (--variational, --ema) is absent from its recipe and must be at its default, the old behaviour
            added = set(recipe) - set(meta["recipe"])
            assert all(recipe[k] == getattr(TrainConfig(), k) for k in added), (name, added)
            assert {k: recipe[k] for k in meta["recipe"]} == meta["recipe"], name
            commanded[name] = meta["command"]
    # the text models record one, and today's recipes still print exactly it
    assert commanded["dinos"] == train_command(DINOS_CONFIG, "dinos-train.txt", "dinos.npz")
    assert commanded["shakespeare"] == train_command(SHAKESPEARE_CONFIG, "shakespeare-train.txt",
                                                     "shakespeare.npz") + " --init plays.npz"


def test_forget_bias_reaches_the_model(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("abc\nbca\ncab\n", encoding="utf-8")
    out = tmp_path / "m.npz"
    assert main(["train", str(corpus), "-o", str(out), "--hidden", "3", "--steps", "1", "--forget-bias", "-2",
                 "--quiet"]) == 0
    lm = load_model(out)
    assert lm.model.forget_bias == -2.0 and lm.meta["train"]["config"]["forget_bias"] == -2.0
