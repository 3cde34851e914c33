"""Write dvc.yaml from the package's stage table (src/nerhpo/pipeline/stages.py).

dvc.yaml is generated, never edited by hand: the stage table is the one definition of every
stage's command, settings, code and data, which the Snakemake rules read too.

    python workflow/scripts/write_dvc_yaml.py           # rewrite dvc.yaml
    python workflow/scripts/write_dvc_yaml.py --check   # exit 1 if dvc.yaml is out of date
"""

import argparse
import sys
from pathlib import Path

from nerhpo.pipeline.stages import PROJECT_DIR, dvc_yaml

if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", default=str(PROJECT_DIR / "dvc.yaml"), help="file to write")
    p.add_argument("--check", action="store_true", help="only check that --out is current")
    args = p.parse_args()
    text, out = dvc_yaml(), Path(args.out)
    if args.check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            sys.exit(f"{out}: out of date; run python workflow/scripts/write_dvc_yaml.py")
    else:
        out.write_text(text, encoding="utf-8")
