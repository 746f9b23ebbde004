#!/usr/bin/env bash
# Writes a large config to stdout: 10,000 windows (five time zones, the three
# schedule forms, scoped to one of 1,000 teams, 20 for every team) and 1,000
# teams with a scorecard of 30 items, the shape benches/decision.rs measures.
#
#   bench/big-config.sh > /tmp/big/windows.toml
#   SCORECARD=0 bench/big-config.sh > ...   # without the scorecard
set -euo pipefail
awk -v scorecard="${SCORECARD:-1}" 'BEGIN {
  split("UTC Europe/Berlin America/New_York Australia/Sydney Asia/Tokyo", zones, " ")
  split("MON-FRI FRI SAT,SUN *", days, " ")
  for (i = 0; i < 10000; i++) {
    zone = zones[i % 5 + 1]
    teams = (i < 20) ? "[\"*\"]" : sprintf("[\"team-%d\"]", i % 1000)
    env = (i % 3 == 0) ? "[\"staging\"]" : "[\"production\", \"prod-*\"]"
    kind = (i % 50 == 7) ? "allow" : "deny"
    if (kind == "allow") {
      schedule = "cron = \"0 22 * * *\"\nduration = \"10h\""
    } else if (i % 3 == 0) {
      schedule = sprintf("cron = \"0 %d * * %s\"\nduration = \"%dh\"", i % 24, days[i % 4 + 1], 1 + i % 12)
    } else if (i % 3 == 1) {
      schedule = sprintf("cron = \"30 %d * * FRI\"\nend_cron = \"0 8 * * MON\"", 12 + i % 10)
    } else {
      day = 1 + i % 28; month = 1 + i % 9
      schedule = sprintf("start = \"2027-0%d-%02dT00:00:00\"\nend = \"2027-0%d-%02dT12:00:00\"", month, day, month, day)
    }
    printf "[[windows]]\nid = \"w%d\"\nkind = \"%s\"\ntimezone = \"%s\"\n%s\nteams = %s\nenvironments = %s\n\n", i, kind, zone, schedule, teams, env
  }
  for (i = 0; i < 30 * scorecard; i++) {
    if (i % 10 == 9) gates = "gates = []\n"
    else if (i % 3 == 2) gates = ""
    else if (i % 3 == 1) gates = "gates = [\"prod*\"]\n"
    else gates = "gates = [\"production\"]\n"
    printf "[[scorecard.items]]\nid = \"item-%d\"\ntitle = \"Risk item %d\"\n%s\n", i, i, gates
  }
  split("green green yellow red", statuses, " ")
  for (t = 0; t < 1000; t++) {
    status = statuses[t % 4 + 1]
    printf "[[teams]]\nname = \"team-%d\"\nstatus = \"%s\"\n", t, status
    if (status == "yellow") printf "plan = \"https://tracker.example/P-1\"\nplan_due = \"2027-06-30\"\n"
    printf "\n"
    for (i = 0; i < 30 * scorecard; i++) {
      k = (t * 31 + i * 7) % 20
      if (k < 2) cell = "status = \"red\"\n"
      else if (k <= 5) cell = sprintf("status = \"yellow\"\nplan = \"https://tracker.example/R-%d\"\nplan_due = \"%s\"\n", i, (k == 5) ? "2026-06-30" : "2027-06-30")
      else cell = "status = \"green\"\n"
      printf "[teams.scorecard.item-%d]\n%s\n", i, cell
    }
  }
}'
