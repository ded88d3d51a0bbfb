# bench/plot.gp - docs/performance.png from bench/render.py's data (called by bench/run):
#   gnuplot -e "datafile='plot.dat'; outfile='docs/performance.png'" bench/plot.gp
set terminal pngcairo size 900,480 font "DejaVu Sans,11" noenhanced
set output outfile
set title "One request through each policy (CPU time, median; lower is better)"
set ylabel "ns per request"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left
set grid ytics
set yrange [0:*]
set xtics nomirror
plot datafile using 2:xtic(1) title columnheader(2) lc rgb "#4d4d4d", \
     '' using 3 title columnheader(3) lc rgb "#1b9e77", \
     '' using 4 title columnheader(4) lc rgb "#377eb8", \
     '' using 5 title columnheader(5) lc rgb "#e41a1c"
