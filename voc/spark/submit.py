"""The driver script for spark-submit, which takes a file rather than a command:

    spark-submit --master yarn [resources, --archives …] "$(python -m voc.spark.submit --path)" \\
        analyse --input db.table --output hdfs:///voc/out

runs `voc spark analyse …` with the master and resources spark-submit set up (``--master submit``).
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    if argv[:1] == ["--path"]:
        print(__file__)
        return
    if not any(arg == "--master" or arg.startswith("--master=") for arg in argv):
        argv = [*argv, "--master", "submit"]  # a master set here would override spark-submit's
    from voc.cli.main import main as voc_main

    sys.argv = ["voc", "spark", *argv]
    voc_main()


if __name__ == "__main__":
    main(sys.argv[1:])
