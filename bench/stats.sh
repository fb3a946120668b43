# Shared by the benchmarks (sourced): the figures they print from their runs.
# median: the median of the numbers on stdin, one a line ("-" for none).
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
  else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# ratio A B: A / B as "1.23x", or "-" when either is missing.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2fx", a / b; else print "-" }'; }
