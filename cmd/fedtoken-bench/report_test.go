package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"none", nil, 0},
		{"one", []float64{0.9}, 0.9},
		{"odd, unsorted", []float64{1.2, 0.8, 0.9, 5, 0.1}, 0.9},
		{"even takes the middle mean", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, median(tt.in), 1e-9)
		})
	}
	in := []float64{3, 1, 2}
	median(in)
	assert.Equal(t, []float64{3, 1, 2}, in, "median must not reorder its input")
}

// twoRounds is a path where the mock reaches 90% then 80% of the baseline and its p99 is 1.2× then 2×.
func twoRounds() *pathResult {
	p := &pathResult{Name: "success"}
	p.add(wrkResult{RPS: 1000, P99: 2 * time.Millisecond, CPUPerReq: 10 * time.Microsecond},
		wrkResult{RPS: 900, P99: 2400 * time.Microsecond, CPUPerReq: 15 * time.Microsecond})
	p.add(wrkResult{RPS: 2000, P99: 1 * time.Millisecond, CPUPerReq: 10 * time.Microsecond},
		wrkResult{RPS: 1600, P99: 2 * time.Millisecond, CPUPerReq: 25 * time.Microsecond})
	return p
}

func TestPathResultRatios(t *testing.T) {
	p := twoRounds()
	require.Len(t, p.tputRatio, 2)
	assert.InDeltaSlice(t, []float64{0.9, 0.8}, p.tputRatio, 1e-9)
	assert.InDeltaSlice(t, []float64{1.2, 2.0}, p.p99Ratio, 1e-9)
	assert.InDeltaSlice(t, []float64{1.5, 2.5}, p.cpuRatio, 1e-9)

	p.add(wrkResult{RPS: 0}, wrkResult{RPS: 5})
	assert.Zero(t, p.tputRatio[2], "a zero baseline gives no ratio rather than +Inf")
}

func TestRoundsTable(t *testing.T) {
	tb := roundsTable(twoRounds())
	assert.Equal(t, "path: success", tb.Title)
	require.Len(t, tb.Rows, 3)
	assert.Equal(t, []string{"1", "1000", "900", "0.90", "2.00ms", "2.40ms", "1.20", "10.0µs", "15.0µs", "1.50"}, tb.Rows[0])
	assert.Equal(t, []string{"median", "", "", "0.85", "", "", "1.60", "", "", "2.00"}, tb.Rows[2])
}

func TestChecks(t *testing.T) {
	s := summary{
		Paths:      []*pathResult{twoRounds()},
		MockRSS:    41 << 20,
		BaseRSS:    12 << 20,
		MockStart:  []time.Duration{20 * time.Millisecond, 30 * time.Millisecond, 500 * time.Millisecond},
		BaseStart:  []time.Duration{10 * time.Millisecond},
		Files:      1000,
		FilesStart: []time.Duration{2 * time.Second},
	}
	cs := checks(s)
	got := map[string]bool{}
	for _, c := range cs {
		got[c.Target] = c.Pass
	}
	assert.Equal(t, map[string]bool{
		"success: median req/s ratio >= 0.85":                   true, // 0.85 exactly meets it
		"success: median p99 ratio <= 1.5":                      false,
		"mock peak RSS under load < 40 MiB":                     false,
		"mock start to first 200 < 100ms":                       true, // the median, not the 500ms outlier
		"mock start to first 200 with 1000 scenario files < 1s": false,
	}, got)
	assert.False(t, allPass(cs))
	assert.True(t, allPass(cs[:1]))
	assert.Contains(t, cs[3].Measured, "30.00ms median, 500.00ms max of 3")

	assert.Empty(t, checks(summary{}), "nothing measured, nothing judged")
}

func TestTableWrite(t *testing.T) {
	tb := table{Title: "t", Header: []string{"a", "bb"}, Rows: [][]string{{"1", "2"}}}
	var md bytes.Buffer
	require.NoError(t, tb.write(&md, true))
	assert.Equal(t, "**t**\n\n| a | bb |\n| --- | --- |\n| 1 | 2 |\n\n", md.String())

	var txt bytes.Buffer
	require.NoError(t, tb.write(&txt, false))
	assert.Equal(t, "t\na  bb\n1  2\n\n", txt.String())
}

func TestWriteReport(t *testing.T) {
	s := summary{Machine: "machine: test", Paths: []*pathResult{twoRounds()}, Notes: []string{"mock success: 3 socket errors"}}
	var b bytes.Buffer
	require.NoError(t, writeReport(&b, s, true))
	out := b.String()
	assert.True(t, strings.HasPrefix(out, "machine: test\n"))
	assert.Contains(t, out, "**path: success**")
	assert.Contains(t, out, "| success: median p99 ratio <= 1.5 | 1.60 | FAIL |")
	assert.Contains(t, out, "note: mock success: 3 socket errors\n")
}

func TestAnomalies(t *testing.T) {
	tests := []struct {
		name    string
		want401 bool
		r       wrkResult
		want    []string
	}{
		{"clean success", false, wrkResult{Requests: 10}, nil},
		{"clean 401", true, wrkResult{Requests: 10, Non2xx: 10}, nil},
		{"401 path answered 200", true, wrkResult{Requests: 10, Non2xx: 7}, []string{"mock p: 3 of 10 responses were 2xx/3xx, want none"}},
		{"success path failed", false, wrkResult{Requests: 10, Non2xx: 2, SocketErrors: 1},
			[]string{"mock p: 2 of 10 responses were not 2xx/3xx", "mock p: 1 socket errors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, anomalies("mock", "p", tt.want401, tt.r))
		})
	}
}
