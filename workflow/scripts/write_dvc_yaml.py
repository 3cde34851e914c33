"""Write dvc.yaml from the package's stage table (src/nerhpo/pipeline/stages.py).

dvc.yaml is generated, never edited by hand: the stage table is the one definition of every
stage's command, settings, code and data, which the Snakemake rules read too. The stages outside
the default target (pretrain_hpo) are written only on request, to workflow/dvc/dvc.yaml (not
tracked): DVC checks every dvc.yaml of a repository, so a tracked one would keep `dvc status`
reporting a stage nobody asked for.

    python workflow/scripts/write_dvc_yaml.py               # rewrite dvc.yaml
    python workflow/scripts/write_dvc_yaml.py --check       # exit 1 if dvc.yaml is out of date
    python workflow/scripts/write_dvc_yaml.py --on-request  # also write workflow/dvc/dvc.yaml,
    dvc repro workflow/dvc/dvc.yaml                         # then run the pretraining study
"""

import argparse
import sys
from pathlib import Path

from nerhpo.pipeline.stages import ON_REQUEST_DVC_YAML, PROJECT_DIR, dvc_yaml, on_request_dvc_yaml

if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", default=str(PROJECT_DIR / "dvc.yaml"), help="file to write")
    p.add_argument(
        "--on-request",
        action="store_true",
        help=f"also write the on-request stages (pretrain_hpo) to {ON_REQUEST_DVC_YAML}",
    )
    p.add_argument(
        "--out-on-request",
        default=str(PROJECT_DIR / ON_REQUEST_DVC_YAML),
        help="file to write the on-request stages to (default: %(default)s)",
    )
    p.add_argument("--check", action="store_true", help="only check that the files are current")
    args = p.parse_args()
    files = [(dvc_yaml(), Path(args.out))]
    on_request = Path(args.out_on_request)
    if args.on_request or (args.check and on_request.is_file()):
        files.append((on_request_dvc_yaml(), on_request))
    for text, out in files:
        if args.check:
            if not out.is_file() or out.read_text(encoding="utf-8") != text:
                sys.exit(f"{out}: out of date; run python workflow/scripts/write_dvc_yaml.py")
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
