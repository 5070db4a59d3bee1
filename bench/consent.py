"""The consent rule's CPU on the intake path (run with `python bench/consent.py --before DIR`).

    python bench/consent.py --before /path/to/a/checkout/of/main [--rounds 9] [--posts 20000]

What a web process does in process for one POST before its one Redis call: read the body,
validate the phone, apply the consent rule (this branch: leadcap/landing/consent.py), build the
queued message (`encode_task`). Timed in child processes on the same machine, in alternating
rounds (each first in half of them): `before` (the code in --before, which has no consent),
`after, no consent` (this tree, a campaign without a consent text) and `after, consent` (this
tree, a consent text given). Prints the median microseconds per POST of each, and writes
bench/results/consent-<stamp>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AFTER = HERE.parent

# One child's loop: the same body and the same calls the web route makes (web/routes/leads.py
# parse(), then Intake._via_redis's encode_task), `posts` times; prints microseconds per POST.
CHILD = r"""
import sys, time
from leadcap.intake import submission
body = b'{"phone": "0912 345 6789", "source": "hero", "utm": {"campaign": "fall"}, "consent": true}'
texts = None
if sys.argv[2] == "consent":
    from leadcap.landing import consent, campaign
    texts = consent.offered(campaign.parse(__import__("json").loads(sys.argv[3])))
elif sys.argv[2] == "none":
    from leadcap.landing import consent
    texts = {}
posts = int(sys.argv[1])
def one():
    draft = submission.read_body(submission.JSON, body)
    parsed = submission.validate(draft, default_region="IR", allowed_regions=frozenset({"IR"}))
    if texts:
        import dataclasses
        parsed = dataclasses.replace(parsed, consent=consent.check(draft.consent, texts, "fa"))
    elif texts is not None:
        pass  # the route's `if texts:` on a campaign without consent
    submission.encode_task(parsed.to_message())
for _ in range(2000):
    one()
start = time.perf_counter()
for _ in range(posts):
    one()
print((time.perf_counter() - start) / posts * 1e6)
"""


def campaign_with_consent() -> str:
    data = json.loads((AFTER / "web" / "campaign.default.json").read_text(encoding="utf-8"))
    data["locales"]["fa"]["consent"] = "با تماس کارشناسان و نگه‌داری شماره‌ام موافقم."
    data["locales"]["en"]["consent"] = "I agree to be called and to my number being kept under the policy."
    return json.dumps(data, ensure_ascii=False)


def child(tree: Path, mode: str, posts: int, document: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(posts), mode, document],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the code before consent")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--posts", type=int, default=20_000)
    args = parser.parse_args()
    document = campaign_with_consent()
    cases = {
        "before": (args.before, "before"),
        "after, no consent": (AFTER, "none"),
        "after, consent": (AFTER, "consent"),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(args.rounds):
        order = list(cases) if i % 2 == 0 else list(reversed(cases))
        for name in order:
            tree, mode = cases[name]
            times[name].append(child(tree, mode, args.posts, document))
    result = {
        "posts_per_round": args.posts,
        "rounds": args.rounds,
        "median_us_per_post": {name: round(statistics.median(v), 2) for name, v in times.items()},
        "all_us_per_post": {name: [round(x, 2) for x in v] for name, v in times.items()},
    }
    print(json.dumps(result, indent=1))
    out = HERE / "results" / f"consent-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
