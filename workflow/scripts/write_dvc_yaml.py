"""Write dvc.yaml from the package's stage table (src/nerhpo/pipeline/stages.py).

dvc.yaml is generated, never edited by hand: the stage table is the one definition of every
stage's command, settings, code and data, which the Snakemake rules read too. The stages outside
the default target (pretrain_hpo) go to workflow/dvc/dvc.yaml, which `dvc repro` alone does not
run (`dvc repro workflow/dvc/dvc.yaml` does).

    python workflow/scripts/write_dvc_yaml.py           # rewrite dvc.yaml
    python workflow/scripts/write_dvc_yaml.py --check   # exit 1 if dvc.yaml is out of date
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
        "--out-on-request",
        default=str(PROJECT_DIR / ON_REQUEST_DVC_YAML),
        help="file to write the on-request stages to",
    )
    p.add_argument("--check", action="store_true", help="only check that the files are current")
    args = p.parse_args()
    for text, out in (
        (dvc_yaml(), Path(args.out)),
        (on_request_dvc_yaml(), Path(args.out_on_request)),
    ):
        if args.check:
            if not out.is_file() or out.read_text(encoding="utf-8") != text:
                sys.exit(f"{out}: out of date; run python workflow/scripts/write_dvc_yaml.py")
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
