"""``tvnet info``: presets, variants and the bundled default assets."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="show presets, variants and bundled assets",
        description="Print the model presets (docs/design.md §3), the ablation variants (Table 1) and "
        "what the bundled default model in assets/ contains.",
    )
    p.add_argument("--preset", help="print the full config of one preset as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tvnet.config import PRESETS, VARIANTS, preset_config

    if args.preset:
        print(json.dumps(preset_config(args.preset).to_dict(), indent=2))
        return 0
    print("presets:  " + ", ".join(PRESETS))
    print(
        "variants: "
        + ", ".join(f"{k} (res={v.res}, high-res={v.highres})" for k, v in VARIANTS.items())
    )
    from tvnet.assets import default_assets

    for name, path in default_assets().items():
        print(f"{name:12s} {path} {'(present)' if path.exists() else '(missing)'}")
    return 0
