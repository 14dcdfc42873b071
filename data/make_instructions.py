"""Makes data/shakespeare-instruct.jsonl, a small ShareGPT instruction set, from data/shakespeare.txt.

Every speech of the nine plays is a block: a speaker line ("Ham.", "First Witch.") followed by
its lines. From a seeded sample of speeches with at least two lines of verse or prose, it writes
two kinds of conversation:
  "Who speaks the line: <first line>"   -> the speaker's name as the play abbreviates it
  "Continue this speech: <first line>"  -> the next one or two lines
and, on every fourth conversation, a system turn naming the task. Deterministic: the same corpus
gives the same file (python3 data/make_instructions.py, no arguments, no dependencies).
"""

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEAKER = re.compile(r"^[A-Z][A-Za-z' ]{0,24}\.$")
COUNT = 1200


def speeches(text):
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if len(lines) < 3 or not SPEAKER.match(lines[0]):
            continue
        body = [line for line in lines[1:] if not line.startswith("[")]
        if len(body) >= 2 and all(8 <= len(line) <= 90 for line in body[:3]):
            yield lines[0][:-1], body


def main():
    text = (HERE / "shakespeare.txt").read_text(encoding="utf-8")
    pool = list(speeches(text))
    rng = random.Random(14)
    rng.shuffle(pool)
    out = []
    for i, (speaker, body) in enumerate(pool[:COUNT]):
        if i % 2 == 0:
            turns = [("human", f"Who speaks the line: {body[0]}"), ("gpt", speaker)]
            system = "Name the speaker of a line from Shakespeare."
        else:
            turns = [("human", f"Continue this speech: {body[0]}"), ("gpt", "\n".join(body[1:3]))]
            system = "Continue a speech from Shakespeare."
        if i % 4 < 2:
            turns.insert(0, ("system", system))
        out.append(json.dumps({"conversations": [{"from": f, "value": v} for f, v in turns]}, ensure_ascii=False))
    (HERE / "shakespeare-instruct.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{len(out)} conversations from {len(pool)} speeches")


if __name__ == "__main__":
    main()
