"""Prints int8 against float accuracy of each front (bench/int8/front.sh)."""
import json
import statistics
import sys


def arch_text(trial):
    parts = []
    for layer in trial["architecture"]["layers"]:
        text = layer["type"]
        if layer.get("out"):
            text += f"({layer['out']})"
        elif layer.get("kernel"):
            text += f"(k{layer['kernel']})"
        parts.append(text)
    return " ".join(parts)


def main(out, datasets):
    for ds in datasets:
        front = json.load(open(f"{out}/front-{ds}.json"))["trials"]
        trials = json.load(open(f"{out}/trials-{ds}.json"))["trials"]
        trained = [t for t in trials if t["state"] == "TRIAL_SUCCEEDED"]
        print(f"\n{ds}: {len(front)} front trials of {len(trained)} trained")
        print(f"{'trial':>6} {'float':>7} {'int8':>7} {'drop':>7} {'flash':>8} "
              f"{'arena':>8}  architecture")
        drops = []
        for t in front:
            m = t["metrics"]
            if not m.get("int8"):
                print(f"{t['id']:>6}  no int8 figures: {m.get('notes')}")
                continue
            drop = 100 * (m["accuracy"] - m["accuracy_int8"])
            drops.append(drop)
            test = ""
            if m.get("test_accuracy"):
                test = (f"  test {100 * m['test_accuracy']:.2f} -> "
                        f"{100 * m.get('test_accuracy_int8', 0):.2f}")
            print(f"{t['id']:>6} {100 * m['accuracy']:7.2f} {100 * m['accuracy_int8']:7.2f} "
                  f"{drop:+7.2f} {int(m['flash_bytes']):>8} {int(m['arena_bytes']):>8}  "
                  f"{arch_text(t)}{test}")
        all_drops = [100 * (t["metrics"]["accuracy"] - t["metrics"]["accuracy_int8"])
                     for t in trained if t["metrics"].get("int8")]
        if not drops:
            print("no front trial has int8 figures")
            continue
        floats = [t["metrics"]["accuracy"] for t in front if t["metrics"].get("int8")]
        int8s = [t["metrics"]["accuracy_int8"] for t in front if t["metrics"].get("int8")]
        print(f"front: median drop {statistics.median(drops):+.2f} points, "
              f"max {max(drops):+.2f}; median int8/float accuracy ratio "
              f"{statistics.median(int8s) / statistics.median(floats):.4f}")
        print(f"all {len(all_drops)} trained: median drop "
              f"{statistics.median(all_drops):+.2f} points, worst {max(all_drops):+.2f}, "
              f"within 1 point: {sum(d <= 1 for d in all_drops)}/{len(all_drops)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
