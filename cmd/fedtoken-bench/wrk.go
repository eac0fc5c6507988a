package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run reports.
type wrkResult struct {
	RPS          float64
	P99          time.Duration
	Requests     int
	Non2xx       int
	SocketErrors int
	// CPUPerReq is the server's CPU time per request served, set by the harness from its rusage.
	CPUPerReq time.Duration
}

var (
	reRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	reP99      = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+[a-z]+)`)
	reRequests = regexp.MustCompile(`(?m)^\s+(\d+) requests in `)
	reNon2xx   = regexp.MustCompile(`(?m)^\s+Non-2xx or 3xx responses: (\d+)`)
	reSocket   = regexp.MustCompile(`(?m)^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads the summary of `wrk --latency`; req/s and the 99th percentile are required.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := reRPS.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("wrk output has no Requests/sec line")
	}
	rps, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return r, fmt.Errorf("wrk Requests/sec %q: %w", m[1], err)
	}
	r.RPS = rps
	m = reP99.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("wrk output has no 99% latency line (was --latency given?)")
	}
	// wrk prints us, ms, s, m and h, all of which time.ParseDuration reads.
	if r.P99, err = time.ParseDuration(m[1]); err != nil {
		return r, fmt.Errorf("wrk 99%% latency %q: %w", m[1], err)
	}
	if m = reRequests.FindStringSubmatch(out); m != nil {
		r.Requests, _ = strconv.Atoi(m[1])
	}
	if m = reNon2xx.FindStringSubmatch(out); m != nil {
		r.Non2xx, _ = strconv.Atoi(m[1])
	}
	if m = reSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.SocketErrors += n
		}
	}
	return r, nil
}

// wrkLua turns wrk's default GET into the endpoint's POST with an empty body.
const wrkLua = "wrk.method = \"POST\"\n"

// findWrk locates wrk or says how to get it.
func findWrk() (string, error) {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return "", errors.New("wrk not found in PATH: install it with `apt-get install -y wrk` (Debian/Ubuntu) or from https://github.com/wg/wrk")
	}
	return p, nil
}

// writeLua puts the POST script into dir and returns its path.
func writeLua(dir string) (string, error) {
	p := filepath.Join(dir, "post.lua")
	if err := os.WriteFile(p, []byte(wrkLua), 0o644); err != nil {
		return "", fmt.Errorf("write wrk script: %w", err)
	}
	return p, nil
}

// loadSpec is one wrk invocation.
type loadSpec struct {
	Wrk, Script, URL string
	Headers          []string
	Threads, Conns   int
	Duration         time.Duration
}

// runWrk drives one load run and parses its summary.
func runWrk(ctx context.Context, s loadSpec) (wrkResult, error) {
	args := []string{
		"-t", strconv.Itoa(s.Threads), "-c", strconv.Itoa(s.Conns),
		"-d", fmt.Sprintf("%ds", max(1, int(s.Duration.Round(time.Second)/time.Second))),
		"--latency", "-s", s.Script,
	}
	for _, h := range s.Headers {
		args = append(args, "-H", h)
	}
	args = append(args, s.URL)
	out, err := exec.CommandContext(ctx, s.Wrk, args...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return r, fmt.Errorf("%w\n%s", err, out)
	}
	return r, nil
}

// readHWM returns a process's peak resident set size in bytes, from /proc/PID/status.
func readHWM(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read peak RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmHWM %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
