package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets from the performance issue.
const (
	minThroughputRatio = 0.85
	maxP99Ratio        = 1.5
	maxRSS             = 40 << 20
	maxStartUp         = 100 * time.Millisecond
	maxFilesStartUp    = time.Second
)

// pair is one round of one path: the baseline's run and the mock's, back to back.
type pair struct{ Base, Mock wrkResult }

// pathResult holds every round of one load path.
type pathResult struct {
	Name      string
	Want401   bool // every response should be non-2xx
	Rounds    []pair
	tputRatio []float64
	p99Ratio  []float64
	cpuRatio  []float64
}

// add records a round and its ratios (mock over baseline).
func (p *pathResult) add(base, mock wrkResult) {
	p.Rounds = append(p.Rounds, pair{base, mock})
	p.tputRatio = append(p.tputRatio, ratio(mock.RPS, base.RPS))
	p.p99Ratio = append(p.p99Ratio, ratio(float64(mock.P99), float64(base.P99)))
	p.cpuRatio = append(p.cpuRatio, ratio(float64(mock.CPUPerReq), float64(base.CPUPerReq)))
}

// summary is everything one bench run measured.
type summary struct {
	Machine          string
	Paths            []*pathResult
	BaseRSS, MockRSS int64
	BaseStart        []time.Duration
	MockStart        []time.Duration
	Files            int
	FilesStart       []time.Duration
	Notes            []string
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// median of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func medianDur(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(median(xs))
}

// table is rendered either aligned for a terminal or as markdown for the README.
type table struct {
	Title  string
	Header []string
	Rows   [][]string
}

func (t table) write(w io.Writer, markdown bool) error {
	if markdown {
		var b strings.Builder
		fmt.Fprintf(&b, "**%s**\n\n", t.Title)
		line := func(cells []string) { fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | ")) }
		line(t.Header)
		sep := make([]string, len(t.Header))
		for i := range sep {
			sep[i] = "---"
		}
		line(sep)
		for _, r := range t.Rows {
			line(r)
		}
		b.WriteString("\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	if _, err := fmt.Fprintf(w, "%s\n", t.Title); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range append([][]string{t.Header}, t.Rows...) {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func fmtRPS(x float64) string   { return fmt.Sprintf("%.0f", x) }
func fmtRatio(x float64) string { return fmt.Sprintf("%.2f", x) }
func fmtMicros(d time.Duration) string {
	return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
}
func fmtMiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func fmtDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(time.Millisecond).String()
}

// roundsTable lists each round of a path with its ratios, and their medians last.
func roundsTable(p *pathResult) table {
	t := table{
		Title: "path: " + p.Name,
		Header: []string{"round", "baseline req/s", "mock req/s", "req/s ratio", "baseline p99", "mock p99", "p99 ratio",
			"baseline CPU/req", "mock CPU/req", "CPU/req ratio"},
	}
	for i, r := range p.Rounds {
		t.Rows = append(t.Rows, []string{
			fmt.Sprint(i + 1), fmtRPS(r.Base.RPS), fmtRPS(r.Mock.RPS), fmtRatio(p.tputRatio[i]),
			fmtDur(r.Base.P99), fmtDur(r.Mock.P99), fmtRatio(p.p99Ratio[i]),
			fmtMicros(r.Base.CPUPerReq), fmtMicros(r.Mock.CPUPerReq), fmtRatio(p.cpuRatio[i]),
		})
	}
	t.Rows = append(t.Rows, []string{"median", "", "", fmtRatio(median(p.tputRatio)), "", "", fmtRatio(median(p.p99Ratio)),
		"", "", fmtRatio(median(p.cpuRatio))})
	return t
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// check is one target with what was measured against it.
type check struct {
	Target, Measured string
	Pass             bool
}

// checks judges every target the run measured; start-up uses the median of all starts.
func checks(s summary) []check {
	var cs []check
	for _, p := range s.Paths {
		tr, pr := median(p.tputRatio), median(p.p99Ratio)
		cs = append(cs,
			check{fmt.Sprintf("%s: median req/s ratio >= %.2f", p.Name, minThroughputRatio), fmtRatio(tr), tr >= minThroughputRatio},
			check{fmt.Sprintf("%s: median p99 ratio <= %.1f", p.Name, maxP99Ratio), fmtRatio(pr), pr <= maxP99Ratio},
		)
	}
	if len(s.Paths) > 0 {
		cs = append(cs, check{"mock peak RSS under load < 40 MiB",
			fmt.Sprintf("%s (baseline %s)", fmtMiB(s.MockRSS), fmtMiB(s.BaseRSS)), s.MockRSS < maxRSS})
	}
	if len(s.MockStart) > 0 {
		m := medianDur(s.MockStart)
		cs = append(cs, check{"mock start to first 200 < 100ms",
			fmt.Sprintf("%s median, %s max of %d (baseline %s median)",
				fmtDur(m), fmtDur(slices.Max(s.MockStart)), len(s.MockStart), fmtDur(medianDur(s.BaseStart))),
			m < maxStartUp})
	}
	if len(s.FilesStart) > 0 {
		m := medianDur(s.FilesStart)
		cs = append(cs, check{fmt.Sprintf("mock start to first 200 with %d scenario files < 1s", s.Files),
			fmt.Sprintf("%s median, %s max of %d", fmtDur(m), fmtDur(slices.Max(s.FilesStart)), len(s.FilesStart)),
			m < maxFilesStartUp})
	}
	return cs
}

func checksTable(cs []check) table {
	t := table{Title: "targets", Header: []string{"target", "measured", "result"}}
	for _, c := range cs {
		t.Rows = append(t.Rows, []string{c.Target, c.Measured, passFail(c.Pass)})
	}
	return t
}

// writeReport prints the machine line, a table per path, the targets and any notes.
func writeReport(w io.Writer, s summary, markdown bool) error {
	if _, err := fmt.Fprintf(w, "%s\n\n", s.Machine); err != nil {
		return err
	}
	tables := make([]table, 0, len(s.Paths)+1)
	for _, p := range s.Paths {
		tables = append(tables, roundsTable(p))
	}
	tables = append(tables, checksTable(checks(s)))
	for _, t := range tables {
		if err := t.write(w, markdown); err != nil {
			return err
		}
	}
	for _, n := range s.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

// allPass says whether every target was met.
func allPass(cs []check) bool {
	for _, c := range cs {
		if !c.Pass {
			return false
		}
	}
	return true
}

// anomalies flags a run whose responses were not what its path asks for, or that lost connections.
func anomalies(server, path string, want401 bool, r wrkResult) []string {
	var out []string
	if want401 && r.Non2xx != r.Requests {
		out = append(out, fmt.Sprintf("%s %s: %d of %d responses were 2xx/3xx, want none", server, path, r.Requests-r.Non2xx, r.Requests))
	}
	if !want401 && r.Non2xx != 0 {
		out = append(out, fmt.Sprintf("%s %s: %d of %d responses were not 2xx/3xx", server, path, r.Non2xx, r.Requests))
	}
	if r.SocketErrors != 0 {
		out = append(out, fmt.Sprintf("%s %s: %d socket errors", server, path, r.SocketErrors))
	}
	return out
}
