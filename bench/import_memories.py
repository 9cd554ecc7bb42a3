#!/usr/bin/env python3
"""Writes 10,000 short, distinct memories (about 20 tokens each) as JSONL for bench/import_minilm.sh.

    python3 bench/import_memories.py OUT.jsonl [N]

Seeded (15): the same file on every run.
"""
import json
import random
import sys

NAMES = ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Niaj",
         "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yara"]
VERBS = ["prefers", "booked", "moved", "reviewed", "cancelled", "approved", "shipped", "asked about", "forgot",
         "scheduled", "paid for", "compared"]
OBJECTS = ["a window seat", "the quarterly report", "green tea", "the launch plan", "a meeting room", "the deploy window",
           "peanut-free snacks", "the travel budget", "a standing desk", "the search ranking", "the guest wifi",
           "an early flight", "the billing service", "a hotel in Lisbon", "the design review", "new laptops"]
TAILS = ["on Monday", "after lunch", "for the Berlin trip", "before the review", "in March", "with the design team",
         "last week", "for next quarter", "at 10am", "during the offsite", "because of the outage", "for the new hire"]
EXTRA = ["urgent", "again", "twice", "quietly", "finally", "as promised", "without asking", "for the client",
         "by mistake", "on time"]


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    r = random.Random(15)
    seen = set()
    with open(out, "w") as f:
        n = 0
        while n < count:
            t = f"{r.choice(NAMES)} {r.choice(VERBS)} {r.choice(OBJECTS)} {r.choice(TAILS)}, {r.choice(EXTRA)}, ticket {r.randrange(100000)}."
            if t in seen:
                continue
            seen.add(t)
            n += 1
            f.write(json.dumps({"content": t, "metadata": {"n": n}}) + "\n")


if __name__ == "__main__":
    main()
