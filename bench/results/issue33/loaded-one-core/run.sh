#!/bin/bash
# A second job holding one core (a busy loop pinned to CPU 1) while the answer benchmark
# asks tuning seed 7 with today's default (early release) and the 'sentences' preset.
set -u
cd /tmp/wtB
taskset -c 1 /work/main/.venv/bin/python -c 'while True: pass' &
HOG=$!
echo "hog pid $HOG on cpu 1; load at start: $(cat /proc/loadavg)"
HF_HUB_OFFLINE=1 /work/main/.venv/bin/python -m app.cli eval answers --generate 7 \
  --config default --config sentences --out /tmp/bB/answer-sets.md --log-dir /tmp/bB/logs \
  --work-dir /tmp/bB/work
kill $HOG
