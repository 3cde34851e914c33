"""Write docs/configuration.md: per top-level block of params.yaml a table of its keys.

Each row gives the dotted key, what the schema (workflow/schemas/params.schema.yaml) allows,
the value in the params file (the default) and the schema's description. Run it after
changing the schema or a default in params.yaml; tests/test_config.py fails when the
committed file is out of date. --check only compares (exit status 1 if the file differs).
"""

from pathlib import Path

from nerhpo.core import cli
from nerhpo.core.atomic import atomic_write_text
from nerhpo.core.config import load_params, load_schema, params_reference


def main(args):
    text = params_reference(load_schema(), load_params(args.params))
    out = Path(args.out)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            raise cli.UserError(f"{out} is out of date: run python workflow/scripts/params_doc.py")
        return
    atomic_write_text(out, text)
    print(f"wrote {out}")


if __name__ == "__main__":
    p = cli.parser(__doc__.split("\n\n")[0])
    p.add_argument(
        "--out",
        default="docs/configuration.md",
        help="the Markdown file to write (default: docs/configuration.md)",
    )
    p.add_argument(
        "--check", action="store_true", help="only compare with --out; exit 1 if it differs"
    )
    cli.run(main, p.parse_args())
