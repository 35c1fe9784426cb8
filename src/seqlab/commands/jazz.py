"""`seqlab jazz`: improvise a jazz solo over the Metheny chords, another file's, or changes written as chord
symbols, and write it as MIDI (with a WAV and a piano roll on request)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from seqlab.cli import seed
from seqlab.errors import UserError
from seqlab.stopping import StopFlag, stop_on_signals

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.

SECTION = ("solo_part", "chord_part", "start", "end")
# What the continue line of an interrupted training repeats when it differs from the default (filled by register)
REPLAY = ("save_model", "output", "seed", "temperature", "measures", "wav", "png", "chords", "chords_file",
          "changes", "choruses", "bpm", "instrument", "swing", "primer", "allow_divergence")
_DEFAULTS: dict = {}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "jazz", help="improvise a jazz solo with an LSTM and write it as MIDI",
        description="Improvise a solo with the bundled model (trained on Pat Metheny's \"And Then I Knew\") over "
                    "its chords, or over changes you write (--chords \"Dm7 G7 | Cmaj7 | %\") or pick "
                    "(--changes blues), and write it as MIDI (tracks Solo and Chords). With --train, train "
                    "a new model on another MIDI file first and improvise over that file's chords. Ctrl-C "
                    "(or SIGTERM) during the training finishes the epoch in progress, writes a training "
                    "checkpoint to --save-model (default: the --resume file, else the output's name with "
                    ".train.npz: solo.train.npz for -o solo.mid), prints the command that continues it with "
                    "--resume, and plays nothing; the continued run ends with exactly the model of an "
                    "uninterrupted one. That checkpoint also plays as it is with --model.")
    p.add_argument("-o", "--output", default="solo.mid", metavar="FILE.mid",
                   help="where to write the MIDI (default: solo.mid)")
    p.add_argument("--seed", type=seed, default=0, help="random seed of the solo, and with --train of the training "
                                                         "(its windows and first weights); default: 0")
    p.add_argument("--temperature", type=float, default=0.0, metavar="T",
                   help="0 takes the most likely value at every step, like the course (default); "
                        "T > 0 samples from softmax(logits / T)")
    p.add_argument("--measures", type=int, metavar="N",
                   help="length of the solo over the model's own chords (default: 16; written changes "
                        "last --choruses times their length instead)")
    p.add_argument("--wav", action="store_true",
                   help="also render a WAV (16-bit mono, 22.05 kHz) with the built-in synthesizer, the chords "
                        "comping under the solo")
    p.add_argument("--png", action="store_true",
                   help="also draw a piano roll of the solo over the chords, their symbols above")
    c = p.add_argument_group("changes, sound and feel")
    src = c.add_mutually_exclusive_group()
    src.add_argument("--chords", metavar="CHANGES",
                     help='chord symbols, measures separated by |, e.g. "Dm7 G7 | Cmaj7 | %%" (the chords of '
                          'a measure share its beats; %% repeats the measure before)')
    src.add_argument("--chords-file", metavar="FILE", help="the same notation from a text file (newlines "
                                                           "also separate measures; # after a space or at a "
                                                           "line's start begins a comment)")
    src.add_argument("--changes", metavar="NAME", help="a built-in progression (see --list-changes)")
    c.add_argument("--list-changes", action="store_true", help="print the built-in progressions and exit")
    c.add_argument("--choruses", type=int, metavar="N",
                   help="times through the changes (default: 1; with the model's own chords, replaces "
                        "--measures)")
    c.add_argument("--bpm", type=float, default=130, metavar="N", help="tempo, 40 to 300 (default: 130)")
    c.add_argument("--instrument", default="Electric Guitar", metavar="NAME",
                   help='General MIDI instrument of the solo, as music21 names it ("Alto Saxophone", '
                        '"Trumpet", "Vibraphone"; default: Electric Guitar)')
    c.add_argument("--swing", type=float, default=0.5, metavar="R",
                   help="swung eighths: the off-beat eighth at R of the beat, 0.5 straight (default) to 0.75")
    c.add_argument("--primer", metavar="FILE.mid",
                   help="open the solo with the first two measures of this melody; the model continues it")
    p.add_argument("--model", metavar="FILE.npz", help="a jazz model saved by --save-model (default: the "
                                                          "bundled one, also named jazz)")
    t = p.add_argument_group("training on another file")
    t.add_argument("--train", metavar="MIDI", help="train a new model on this MIDI file first (or on the "
                                                    "dataset metheny, the course's file)")
    t.add_argument("--solo-part", type=int, metavar="N", help="part holding the solo (default: the track "
                                                                "with the most single notes)")
    t.add_argument("--chord-part", type=int, metavar="N", help="part holding the chords (default: the other "
                                                                 "track with the most chords)")
    t.add_argument("--start", type=float, metavar="OFFSET", help="section start in quarter notes "
                                                                   "(default: the solo's first measure)")
    t.add_argument("--end", type=float, metavar="OFFSET", help="section end in quarter notes (default: "
                                                                 "the end of the solo)")
    t.add_argument("--epochs", type=int, help="training epochs (default: 100, as the course; "
                                                           "with --resume, the total to reach)")
    t.add_argument("--save-model", metavar="FILE.npz", help="keep the trained model in this file (an "
                                                             "interrupted training keeps its state there)")
    t.add_argument("--resume", metavar="FILE.npz",
                   help="continue the interrupted training saved in this file up to --epochs (the same MIDI "
                        "file and part and offset options); without --save-model, the state after another "
                        "interruption, and the finished model, replace it")
    t.add_argument("--allow-divergence", action="store_true", default=None,
                   help="keep training when the loss has stayed above 3 × ln V (far worse than a uniform guess) "
                        "for 100 batches, instead of stopping as diverged (exit status 3, nothing saved)")
    p.set_defaults(func=run)
    _DEFAULTS.update({dest: p.get_default(dest) for dest in REPLAY})


def _check(args) -> Path:
    if args.measures is not None:   # it used to be ignored, silently, beside written changes or --choruses
        if args.chords is not None or args.chords_file is not None or args.changes is not None:
            raise UserError("--measures is the length over the model's own chords; written changes last "
                            "their own length times --choruses N")
        if args.choruses is not None:
            raise UserError("give --measures N or --choruses N over the model's own chords, not both")
        if not 1 <= args.measures <= 1000:
            raise UserError(f"--measures must be between 1 and 1000, got {args.measures}")
    if not args.temperature >= 0:
        raise UserError(f"--temperature must be 0 (argmax) or positive, got {args.temperature}")
    if args.epochs is not None and args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {args.epochs}")
    training_only = [o for o in (*SECTION, "epochs", "save_model", "resume", "allow_divergence")
                     if getattr(args, o) is not None]
    if training_only and not args.train:   # --epochs alone used to be ignored, silently
        raise UserError(f"--{training_only[0].replace('_', '-')} only applies with --train MIDI")
    if args.epochs is None:
        from seqlab.music.train import SETTINGS

        args.epochs = SETTINGS["epochs"]
    if args.train and args.model:
        raise UserError("--model and --train exclude each other: load a model or train one")
    from seqlab.checkpoint import is_checkpoint
    from seqlab.fileio import check_output_by_suffix, check_output_file
    from seqlab.music.midi import is_midi

    out = Path(args.output)
    if out.suffix.lower() not in (".mid", ".midi"):   # -o solo.wav used to get MIDI bytes under a .wav name
        raise UserError(f"-o {out}: the solo is written as MIDI, so -o takes a .mid or .midi name; for a WAV "
                        f"too add --wav (it goes beside the MIDI: -o {out.with_suffix('.mid')} --wav writes "
                        f"{out.with_suffix('.wav')})")
    reads = (args.train, args.primer, args.model, args.chords_file)
    check_output_file(out, "-o", "solo.mid", reads=(*reads, args.resume, args.save_model), replaceable=is_midi,
                      kind="a MIDI file")
    if args.save_model:   # it may be the --resume file: a continued run replaces the state it continued
        check_output_file(Path(args.save_model), "--save-model", "jazz.npz", reads=reads,
                          replaceable=is_checkpoint, kind="a seqlab checkpoint")
    for flag, suffix in (("--wav", ".wav"), ("--png", ".png")):
        if getattr(args, flag[2:]):
            check_output_by_suffix(out.with_suffix(suffix), flag, reads=(*reads, args.resume), beside=f"-o {out}")
    return out


def _state_path(args, out: Path) -> Path:
    """Where an interrupted training keeps its state: --save-model, else the --resume file (a continued run
    replaces the state it continued), else the output's name with .train.npz."""
    return Path(args.save_model or args.resume or out.with_suffix(".train.npz"))


def _continue_command(args, state: Path) -> str:
    """The command line that continues an interrupted training: the same file, section and solo options."""
    words = ["seqlab", "jazz", "--train", args.train]
    for dest in SECTION:
        if getattr(args, dest) is not None:
            words += [_flag(dest), str(getattr(args, dest))]
    words += ["--resume", str(state), "--epochs", str(args.epochs)]
    for dest in REPLAY:
        value = getattr(args, dest)
        if value != _DEFAULTS.get(dest):
            words += [_flag(dest)] if value is True else [_flag(dest), str(value)]
    return shlex.join(words)


def _flag(dest: str) -> str:
    return "-o" if dest == "output" else "--" + dest.replace("_", "-")


def _train(args, out: Path):
    """Train as the options say: (the bundle, None) when the training finished, (None, exit status) when a
    signal interrupted it (its state saved, the continue line printed)."""
    from seqlab.data import resolve_corpus, sha256_file
    from seqlab.music.bundle import save_bundle
    from seqlab.music.midi import load_section
    from seqlab.music.train import JazzRun

    midi = resolve_corpus(args.train, suffix=".mid")
    section = load_section(midi, args.solo_part, args.chord_part, args.start, args.end)
    run = JazzRun.on(section, sha256_file(midi), epochs=args.epochs, seed=args.seed)   # --seed was ignored here
    if args.resume:
        run.restore(args.resume)
    src, state = section.source, _state_path(args, out)
    keep = args.save_model or args.resume   # a continued state would be stale once finished: the model replaces it
    resumed = f", continuing {args.resume} from epoch {run.epochs_done}" if args.resume else ""
    print(f"training on {src['file']}: part {src['solo_part']} over the chords of part {src['chord_part']}, "
          f"offsets {src['start']:g}-{src['end']:g} ({len(section)} measures), {args.epochs} "
          f"epochs{resumed}")

    def log(epoch, loss):
        if epoch == 0 or (epoch + 1) % 10 == 0:
            print(f"  epoch {epoch + 1:3d}  loss {loss:.3f}", flush=True)

    stop = StopFlag()
    with stop_on_signals(stop, log=lambda line: print(line, file=sys.stderr, flush=True), unit="epoch"):
        run.train(log, should_stop=stop, allow_divergence=bool(args.allow_divergence))
        with stop.saving_now():
            if not run.finished:
                run.save(state)
            elif keep:
                print(f"saved the model to {save_bundle(keep, run.bundle())}")
    if not run.finished:   # interrupted: the state is kept, nothing is played
        print(f"interrupted at epoch {run.epochs_done} of {args.epochs}: saved {state}; continue with: "
              f"{_continue_command(args, state)}", file=sys.stderr)
        return None, stop.exit_status
    return run.bundle(), None


def _changes(args):
    """The written changes the options ask for, parsed (None: the model's own progression)."""
    from seqlab.music import changes

    if args.chords is not None:
        return changes.parse_changes(args.chords, "--chords")
    if args.chords_file is not None:
        return changes.read_changes(args.chords_file)
    if args.changes is not None:
        return changes.builtin(args.changes)
    return None


def list_changes() -> int:
    from seqlab.music.changes import CHANGES, TITLES

    for name, text in CHANGES.items():
        print(f"{name:12s} {TITLES[name]}\n{'':12s} {text}")
    return 0


def run(args) -> int:
    if args.list_changes:
        return list_changes()
    from seqlab.music.bundle import load_bundle
    from seqlab.music.perform import check, figures, perform, write_take

    out = _check(args)
    written = _changes(args)
    measures = 16 if args.measures is None else args.measures
    settings = check(changes=written, choruses=args.choruses, measures=measures, bpm=args.bpm,
                     instrument=args.instrument, swing=args.swing, primer=args.primer,
                     temperature=args.temperature, seed=args.seed)  # all before any training or writing
    if args.train:
        bundle, status = _train(args, out)
        if bundle is None:
            return status
    else:
        bundle = load_bundle(args.model)

    take = perform(bundle, **settings)
    solo = take.solo
    write_take(take, midi=out)
    sounding = sum(1 for n in solo.notes if not n.is_rest)
    over = "over the changes" if written else "over the model's chords"
    feel = f", swing {args.swing:g}" if args.swing != 0.5 else ""
    print(f"wrote {out} ({take.measures} measures {over}, {sounding} notes, tracks Solo ({take.instrument}) "
          f"and Chords, {take.bpm:g} bpm{feel})")
    if args.wav:
        print(f"wrote {write_take(take, wav=out.with_suffix('.wav'))[0]}")
    if args.png:
        print(f"wrote {write_take(take, png=out.with_suffix('.png'))[0]}")
    if not sounding:
        print("the solo is all rests: the model is undertrained; train longer or sample with --temperature")
        return 0
    r = figures(take, bundle)
    print(f"chord tones {100 * r['chord_tone_fraction']:.1f}% of the time, key {r['key']} "
          f"(correlation {r['key_correlation']:.3f}), longest run copied from the training solo: "
          f"{r['longest_copied_run']} (interval, duration) pairs, pitches {r['lowest']}-{r['highest']} "
          f"(the training solo's {r['register'][0]}-{r['register'][1]})")
    return 0
