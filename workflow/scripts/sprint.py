"""One step of the progressive-fidelity sprint (params: sprint), on sprint.family/variant/algorithm.

  --step data    a seeded share sprint.data_fraction of the training sentences -> results/sprint/data/
  --step cheap   the cheap round (sprint.num_samples trials, sprint.max_epochs) -> results/sprint/cheap/
  --step narrow  importance, border check and the sprint.keep best trials of the cheap round
                 -> the narrowed search space, results/sprint/space.json
  --step full    the full round (hpo budget, all data) on that space -> results/sprint/full/

With sprint.enabled false every step writes only a small {"enabled": false} marker.
"""

from nerhpo import cli
from nerhpo.config import load_params

OUT = {
    "data": "results/sprint/data",
    "cheap": "results/sprint/cheap",
    "narrow": "results/sprint/space.json",
    "full": "results/sprint/full",
}


def main(args):
    from pathlib import Path

    from nerhpo.atomic import atomic_directory, atomic_write_json

    params = load_params(args.params)
    s = params["sprint"]
    out = Path(OUT[args.step])
    if not s["enabled"]:
        if args.step == "narrow":
            atomic_write_json(out, {"enabled": False})
        else:
            with atomic_directory(out) as tmp:
                atomic_write_json(tmp / "disabled.json", {"enabled": False})
        return
    source = Path("data/variants") / s["family"] / s["variant"]
    if args.step == "data":
        from nerhpo.sprint import subset_data

        with atomic_directory(out) as tmp:
            info = subset_data(source, tmp, s["data_fraction"], params["seed"])
            atomic_write_json(tmp / "subset.json", info)
        return
    if args.step == "narrow":
        import pandas as pd

        from nerhpo.findings import importance
        from nerhpo.sprint import narrow_space

        trials_path = Path(OUT["cheap"]) / "trials.csv"
        if not trials_path.is_file():
            raise cli.UserError(f"missing input file {trials_path} (run --step cheap first)")
        trials = pd.read_csv(trials_path, dtype={"trial_id": str, "error": str})
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
    from nerhpo.hpo import StudyFailed
    from nerhpo.sprint import cheap_overrides
    from nerhpo.stages import make_study, model_source, run_costed

    if args.step == "cheap":
        data_dir, overrides = Path(OUT["data"]), cheap_overrides(s, params["hpo"])
    else:
        import json

        space_path = Path(OUT["narrow"])
        if not space_path.is_file():
            raise cli.UserError(f"missing input file {space_path} (run --step narrow first)")
        data_dir = source
        overrides = {"search_space": json.loads(space_path.read_text())["search_space"]}
    if not (data_dir / "train.tsv").is_file():
        raise cli.UserError(f"missing input file {data_dir / 'train.tsv'}")
    study = make_study(
        params,
        s["family"],
        s["variant"],
        s["algorithm"],
        data_dir,
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
    p.add_argument("--step", required=True, choices=list(OUT), help="which step to run")
    p.add_argument("--model", help="encoder directory (default: from params / results/pretrained)")
    cli.run(main, p.parse_args())
