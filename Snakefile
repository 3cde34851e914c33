# nerhpo: HPO methods for casing-robust German NER. Read top to bottom: settings, phases, target.
from snakemake.utils import min_version

min_version("9.0")


configfile: "params.yaml"


# the schema and the checks across keys (nerhpo.core.config): one line per problem, no traceback
from nerhpo.core.config import check_params

check_params(
    config, workflow.configfiles[-1] if workflow.configfiles else "params.yaml"
)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/compare_common.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/objective.smk"
include: "workflow/rules/findings.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/benchmark.smk"
include: "workflow/rules/pretrain_hpo.smk"


rule all:
    default_target: True
    input:
        all_targets(),


onstart:
    if ray_head_wanted():
        shell(
            f"python workflow/scripts/ray_head.py start --cpus {workflow.cores}"
            f" --watch-pid {os.getpid()} > .nerhpo-ray.log 2>&1 || true"
        )


onsuccess:
    if ray_head_wanted():
        shell("python workflow/scripts/ray_head.py stop")


onerror:
    if ray_head_wanted():
        shell("python workflow/scripts/ray_head.py stop")
