"""One step of the progressive-fidelity sprint (params: sprint), on sprint.family/variant/algorithm.

  --step data    --data: the variant's folder  -> --out: a seeded share sprint.data_fraction of
                 its training sentences (results/sprint/data/)
  --step cheap   --data: that share            -> --out: the cheap round (sprint.num_samples
                 trials, sprint.max_epochs; results/sprint/cheap/)
  --step narrow  --data: the cheap round's trials.csv -> --out: the narrowed search space from
                 its importance, border check and sprint.keep best trials (results/sprint/space.json)
  --step full    --data: the variant's folder, --space: that space -> --out: the full round
                 (hpo budget, all data; results/sprint/full/)

With sprint.enabled false every step writes only a small {"enabled": false} marker.
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params

STEPS = ("data", "cheap", "narrow", "full")


def main(args):
    from pathlib import Path

    from nerhpo.core.atomic import atomic_directory, atomic_write_json

    params = load_params(args.params)
    s = params["sprint"]
    out, data = Path(args.out), Path(args.data)
    if not s["enabled"]:
        if args.step == "narrow":
            atomic_write_json(out, {"enabled": False})
        else:
            with atomic_directory(out) as tmp:
                atomic_write_json(tmp / "disabled.json", {"enabled": False})
        return
    if args.step == "data":
        from nerhpo.analysis.sprint import subset_data

        with atomic_directory(out) as tmp:
            info = subset_data(data, tmp, s["data_fraction"], params["seed"])
            atomic_write_json(tmp / "subset.json", info)
        return
    if args.step == "narrow":
        import pandas as pd

        from nerhpo.analysis.findings import importance
        from nerhpo.analysis.sprint import narrow_space

        if not data.is_file():
            raise cli.UserError(f"missing input file {data} (run --step cheap first)")
        trials = pd.read_csv(data, dtype={"trial_id": str, "error": str})
        space = params["hpo"]["search_space"]
        imp = importance(trials, space, seed=params["seed"])
        new, notes = narrow_space(space, trials, imp, s["keep"], s["pad"], s["min_importance"])
        atomic_write_json(
            out,
            {
                "enabled": True,
                "search_space": new,
                "notes": notes,
                "importance": imp.to_dict("records"),
                "importance_message": imp.attrs.get("message", ""),
            },
        )
        return
    from nerhpo.analysis.sprint import cheap_overrides
    from nerhpo.core.layout import model_source
    from nerhpo.search.repeats import run_costed
    from nerhpo.search.study import StudyFailed, make_study

    if args.step == "cheap":
        overrides = cheap_overrides(s, params["hpo"])
    else:
        import json

        if not args.space:
            raise cli.UserError("--step full needs --space (the narrow step's space.json)")
        space_path = Path(args.space)
        if not space_path.is_file():
            raise cli.UserError(f"missing input file {space_path} (run --step narrow first)")
        overrides = {"search_space": json.loads(space_path.read_text())["search_space"]}
    if not (data / "train.tsv").is_file():
        raise cli.UserError(f"missing input file {data / 'train.tsv'}")
    study = make_study(
        params,
        s["family"],
        s["variant"],
        s["algorithm"],
        data,
        args.model or model_source(params),
        out,
        hpo_overrides=overrides,
    )
    try:
        run_costed(study)
    except StudyFailed as err:
        raise cli.UserError(str(err)) from None


if __name__ == "__main__":
    import argparse

    p = cli.parser(__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--step", required=True, choices=STEPS, help="which step to run")
    p.add_argument("--data", required=True, help="the step's input (see above)")
    p.add_argument("--space", help="--step full: the narrowed space (results/sprint/space.json)")
    p.add_argument("--out", required=True, help="the step's output (see above)")
    p.add_argument("--model", help="encoder directory (default: from params / results/pretrained)")
    cli.run(main, p.parse_args())
