#!/usr/bin/python3
"""Analysis of bench/learning: does the search learn?

    /usr/bin/python3 bench/learning/analyze.py OUT_DIR

Reads every OUT_DIR/*.search.json (`nasctl --json show ID`) with its
*.trials.json (`nasctl --json trials ID`), as bench/learning/run.sh writes
them, and for each run builds the best-reward-so-far curve over the trials
that count against the budget (SUCCEEDED, CACHED and FAILED, as the
controller's trials_done; INFEASIBLE ones never reach a worker and do not
count), in trial-number (proposal) order. A failed trial adds a point to the
curve without improving it.

Prints, per data set and policy, the mean final best reward over seeds, the
number of counted trials (T) and of trained candidates (succeeded + failed,
cached repeats left out) needed to reach random's final best of the same
seed, and the verdict on issue 3's aim: T at most half of random's trials
(random's budget). The trials random itself needed to reach its final best
(R) are printed too, with T/R. Writes
OUT_DIR/curves.svg and OUT_DIR/curves.png (mean over seeds, min/max band) and
OUT_DIR/summary.json.
"""

import glob
import json
import math
import os
import sys
import warnings

import numpy as np

COUNTED = {"TRIAL_SUCCEEDED", "TRIAL_CACHED", "TRIAL_FAILED"}
REWARDED = {"TRIAL_SUCCEEDED", "TRIAL_CACHED"}
# Rewards are stored doubles and a cached trial copies the original's, so
# equal networks compare equal; the tolerance only absorbs JSON round-trips.
EPS = 1e-9
POLICY_ORDER = ["random", "qlearning", "evolution"]
COLORS = {"random": "tab:gray", "qlearning": "tab:blue", "evolution": "tab:orange"}


class Run:
    """One search: its data set, seed, policy, budget and curve."""

    def __init__(self, search_path):
        with open(search_path) as f:
            search = json.load(f)["search"]
        trials_path = search_path[: -len(".search.json")] + ".trials.json"
        with open(trials_path) as f:
            trials = json.load(f).get("trials", [])
        spec = search["spec"]
        self.path = search_path
        self.dataset = spec["dataset"]["name"]
        self.seed = int(spec["seed"])
        self.policy = spec["policy"]
        self.budget = int(spec["budget"]["max_trials"])
        trials.sort(key=lambda t: int(t["number"]))
        counted = [t for t in trials if t["state"] in COUNTED]
        self.infeasible = sum(t["state"] == "TRIAL_INFEASIBLE" for t in trials)
        self.cached = sum(t["state"] == "TRIAL_CACHED" for t in counted)
        self.failed = sum(t["state"] == "TRIAL_FAILED" for t in counted)
        best, curve, trained, trained_at = -math.inf, [], 0, []
        for t in counted:
            if t["state"] in REWARDED:
                best = max(best, float(t["reward"]))
            if t["state"] != "TRIAL_CACHED":
                trained += 1
            curve.append(best)
            trained_at.append(trained)
        self.curve = np.array(curve, dtype=float)
        self.trained_at = trained_at
        if len(counted) != int(search["trials_done"]):
            raise SystemExit(
                f"analyze: {trials_path}: {len(counted)} counted trials but "
                f"the search reports trials_done={search['trials_done']}")

    @property
    def final_best(self):
        return float(self.curve[-1]) if len(self.curve) else -math.inf

    def trials_to_reach(self, target):
        """1-based count of counted trials at which best >= target, or None."""
        hits = np.nonzero(self.curve >= target - EPS)[0]
        return int(hits[0]) + 1 if len(hits) else None

    def trained_to_reach(self, target):
        """Trained candidates (cached repeats left out) until best >= target."""
        k = self.trials_to_reach(target)
        return None if k is None else self.trained_at[k - 1]


def load_runs(out_dir):
    runs = [Run(p) for p in sorted(glob.glob(os.path.join(out_dir, "*.search.json")))]
    if not runs:
        raise SystemExit(f"analyze: no *.search.json in {out_dir}")
    by_key = {}
    for r in runs:
        key = (r.dataset, r.seed, r.policy)
        if key in by_key:
            raise SystemExit(f"analyze: two runs for {key}: {by_key[key].path}, {r.path}")
        by_key[key] = r
    return by_key


def ordered(values, order):
    return sorted(set(values), key=lambda v: (order.index(v) if v in order else len(order), v))


def median_or_none(values):
    """Median where None (never reached) counts as larger than anything."""
    if not values:
        return None
    finite = sorted(v for v in values if v is not None)
    k = len(values)
    ranks = finite + [math.inf] * (k - len(finite))
    m = ranks[(k - 1) // 2] if k % 2 else (ranks[k // 2 - 1] + ranks[k // 2]) / 2
    return None if math.isinf(m) else m


def analyze_dataset(runs, ds, seeds, policies):
    """Per policy: finals, trials to reach random's best, ratios."""
    result = {}
    for policy in policies:
        rows = []
        for seed in seeds:
            run, ref = runs.get((ds, seed, policy)), runs.get((ds, seed, "random"))
            if run is None or ref is None:
                continue
            target = ref.final_best
            t_ref = ref.trials_to_reach(target)
            t_pol = run.trials_to_reach(target)
            rows.append({
                "seed": seed, "final_best": run.final_best, "random_final_best": target,
                "trials": len(run.curve), "budget": run.budget,
                "cached": run.cached, "failed": run.failed, "infeasible": run.infeasible,
                "trials_to_random_best": t_pol, "random_trials_to_its_best": t_ref,
                "trained_to_random_best": run.trained_to_reach(target),
                "random_trials": len(ref.curve),
                "within_half": t_pol is not None and t_pol <= len(ref.curve) / 2,
                "ratio": None if t_pol is None else t_pol / t_ref,
            })
        result[policy] = rows
    return result


def summarise(rows):
    reached = [r["trials_to_random_best"] for r in rows]
    ratios = [r["ratio"] for r in rows]
    done = [v for v in reached if v is not None]
    return {
        "mean_final_best": float(np.mean([r["final_best"] for r in rows])),
        "median_trials": median_or_none(reached),
        "median_trained": median_or_none([r["trained_to_random_best"] for r in rows]),
        "median_half_random": float(np.median([r["random_trials"] / 2 for r in rows])),
        "seeds_within_half_budget": sum(r["within_half"] for r in rows),
        "mean_trials": float(np.mean(done)) if len(done) == len(reached) else None,
        "median_ratio": median_or_none(ratios),
        "seeds_ratio_within_half": sum(x is not None and x <= 0.5 for x in ratios),
        "seeds": len(rows),
        "median_budget_fraction": median_or_none(
            [None if r["trials_to_random_best"] is None
             else r["trials_to_random_best"] / r["budget"] for r in rows]),
    }


def print_dataset(ds, table, runs, seeds, policies):
    print(f"\n== {ds}")
    budgets = sorted({r.budget for (d, _, _), r in runs.items() if d == ds})
    print(f"budget: {', '.join(map(str, budgets))} trials (succeeded + cached + failed); "
          f"seeds: {' '.join(map(str, seeds))}")
    print("per seed: final best reward / trials to reach random's final best "
          "(random: trials to its own final best); cached, infeasible")
    for policy in policies:
        cells = []
        for r in table[policy]:
            short = "" if r["trials"] >= r["budget"] else f" ONLY {r['trials']} TRIALS"
            cells.append(f"s{r['seed']}: {r['final_best']:.4f} / "
                         f"{r['trials_to_random_best'] or 'not reached'}"
                         f"; {r['cached']}c {r['infeasible']}i{short}")
        print(f"  {policy:<10} " + " | ".join(cells))
    print_curve_points(ds, runs, seeds, policies)


def print_curve_points(ds, runs, seeds, policies):
    n = max(len(r.curve) for (d, _, _), r in runs.items() if d == ds)
    points = sorted({1, 2, 5} | set(range(10, n + 1, 10)) | {n // 4, n // 2, n})
    points = [p for p in points if 1 <= p <= n]
    print("best reward so far, mean over seeds, after k counted trials:")
    print("  k          " + "".join(f"{p:>8}" for p in points))
    for policy in policies:
        curves = mean_band(runs, ds, seeds, policy)[0]
        if curves is None:
            continue
        print(f"  {policy:<10} " + "".join(
            f"{curves[p - 1]:>8.4f}" if np.isfinite(curves[p - 1]) else f"{'-':>8}"
            for p in points))


def mean_band(runs, ds, seeds, policy):
    """Mean, min and max over seeds; short curves are padded with their last value."""
    curves = [runs[(ds, s, policy)].curve for s in seeds if (ds, s, policy) in runs]
    curves = [c for c in curves if len(c)]
    if not curves:
        return None, None, None
    n = max(len(c) for c in curves)
    m = np.array([np.pad(c, (0, n - len(c)), mode="edge") for c in curves])
    m = np.where(np.isfinite(m), m, np.nan)
    with warnings.catch_warnings():  # all-NaN columns: nothing succeeded yet
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return np.nanmean(m, axis=0), np.nanmin(m, axis=0), np.nanmax(m, axis=0)


def print_summary(summaries, datasets, policies):
    print("\n== summary (per data set and policy; T = counted trials to reach random's final "
          "best of the same seed, trained = the same without cached repeats, R = random's "
          "trials to its own final best)")
    print(f"{'data set':<14} {'policy':<10} {'mean best':>9} {'median T':>11} {'trained':>8} "
          f"{'mean T':>7} {'median T/R':>10} {'T/R<=0.5':>8} {'T/budget':>8}")
    for ds in datasets:
        for policy in policies:
            s = summaries[ds].get(policy)
            if s is None:
                continue
            med = "not reached" if s["median_trials"] is None else f"{s['median_trials']:g}"
            mean = "n/a" if s["mean_trials"] is None else f"{s['mean_trials']:.1f}"
            trained = "-" if s["median_trained"] is None else f"{s['median_trained']:g}"
            ratio = "-" if s["median_ratio"] is None else f"{s['median_ratio']:.2f}"
            frac = "-" if s["median_budget_fraction"] is None else f"{s['median_budget_fraction']:.2f}"
            print(f"{ds:<14} {policy:<10} {s['mean_final_best']:>9.4f} {med:>11} {trained:>8} "
                  f"{mean:>7} {ratio:>10} {s['seeds_ratio_within_half']:>4}/{s['seeds']:<3} "
                  f"{frac:>8}")
    print("\n== verdict (aim of issue 3: a learning policy reaches random's final best in at "
          "most half of random's trials, median over seeds; T/R, against the trials random "
          "needed to reach it, is the stricter figure above)")
    for ds in datasets:
        for policy in policies:
            s = summaries[ds].get(policy)
            if policy == "random" or s is None:
                continue
            half = s["median_half_random"]
            ok = s["median_trials"] is not None and s["median_trials"] <= half
            how = ("never reached it in most seeds" if s["median_trials"] is None
                   else f"median T {s['median_trials']:g} against {half:g}")
            print(f"{ds}: {policy} {'MET' if ok else 'NOT MET'} ({how}; "
                  f"{s['seeds_within_half_budget']} of {s['seeds']} seeds within half)")


def plot(runs, datasets, seeds_of, policies, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(datasets), figsize=(6.4 * len(datasets), 4.4), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        for policy in policies:
            mean, lo, hi = mean_band(runs, ds, seeds_of[ds], policy)
            if mean is None:
                continue
            x = np.arange(1, len(mean) + 1)
            color = COLORS.get(policy)
            ax.plot(x, mean, label=policy, color=color, linewidth=1.8, drawstyle="steps-post")
            ax.fill_between(x, lo, hi, color=color, alpha=0.18, linewidth=0, step="post")
        n = len(seeds_of[ds])
        ax.set_title(f"{ds} ({n} seed{'' if n == 1 else 's'})")
        ax.set_xlabel("trials counted against the budget")
        ax.set_ylabel("best reward so far")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.suptitle("best reward so far: mean over seeds, band = min..max")
    fig.tight_layout()
    paths = [os.path.join(out_dir, "curves.svg"), os.path.join(out_dir, "curves.png")]
    for p in paths:
        fig.savefig(p, dpi=110)
    plt.close(fig)
    return paths


def main(argv):
    if len(argv) != 2:
        raise SystemExit("usage: analyze.py OUT_DIR")
    out_dir = argv[1]
    runs = load_runs(out_dir)
    datasets = ordered([k[0] for k in runs], [])
    policies = ordered([k[2] for k in runs], POLICY_ORDER)
    if "random" not in policies:
        raise SystemExit("analyze: no random runs: random is the reference")
    seeds_of = {ds: sorted({k[1] for k in runs if k[0] == ds}) for ds in datasets}
    tables = {}
    for ds in datasets:
        tables[ds] = analyze_dataset(runs, ds, seeds_of[ds], policies)
        print_dataset(ds, tables[ds], runs, seeds_of[ds], policies)
    summaries = {ds: {p: summarise(rows) for p, rows in t.items() if rows}
                 for ds, t in tables.items()}
    print_summary(summaries, datasets, policies)
    paths = plot(runs, datasets, seeds_of, policies, out_dir)
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump({ds: {p: {"runs": rows, "summary": summaries[ds][p]}
                        for p, rows in t.items() if rows} for ds, t in tables.items()},
                  f, indent=2)
    print(f"\nwrote {', '.join(paths)}")


if __name__ == "__main__":
    main(sys.argv)
