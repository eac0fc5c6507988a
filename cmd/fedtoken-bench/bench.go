package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// config is the bench run's flags.
type config struct {
	Rounds, Conns, Threads, Files int
	Duration, Warmup              time.Duration
	MockBin, MockLog              string
	AA, Keep                      bool
}

// loadPath is one kind of request both servers are driven with.
type loadPath struct {
	Name    string
	Headers []string
	Want    int
}

var loadPaths = []loadPath{
	{Name: "success", Headers: []string{"Authorization: Bearer x"}, Want: http.StatusOK},
	{Name: missingScenario, Headers: []string{"Authorization: Bearer x", "X-Mock-Scenario: " + missingScenario}, Want: http.StatusUnauthorized},
}

// startTimeout bounds the wait for a first 200, generous for the 1,000-file start.
const startTimeout = 30 * time.Second

// fileStarts is how many times the mock is started over the generated scenario directory.
const fileStarts = 3

// bench builds what it needs, runs the interleaved rounds and the file-loading starts.
func bench(ctx context.Context, c config, progress io.Writer) (summary, error) {
	var s summary
	wrk, err := findWrk()
	if err != nil {
		return s, err
	}
	tmp, err := os.MkdirTemp("", "fedtoken-bench-")
	if err != nil {
		return s, fmt.Errorf("temp dir: %w", err)
	}
	keep := c.Keep
	defer func() {
		if keep {
			fmt.Fprintln(progress, "kept", tmp)
			return
		}
		os.RemoveAll(tmp)
	}()
	keep = true // until the run succeeds, so its logs can be read
	script, err := writeLua(tmp)
	if err != nil {
		return s, err
	}
	self, err := os.Executable()
	if err != nil {
		return s, fmt.Errorf("find own binary: %w", err)
	}
	base := serverCmd{Name: "baseline", Path: self, Log: filepath.Join(tmp, "baseline.log"),
		Args: func(addr string) []string { return []string{"baseline", "--addr", addr} }}
	mock := serverCmd{Name: "mock", Path: c.MockBin, Log: c.MockLog,
		Args: func(addr string) []string { return []string{"--addr", addr} }}
	if mock.Log == "" {
		mock.Log = filepath.Join(tmp, "mock.log")
	}
	switch {
	case c.AA:
		mock.Name, mock.Path, mock.Args = "mock(=baseline)", base.Path, base.Args
	case mock.Path == "":
		if mock.Path, err = buildMock(ctx, tmp); err != nil {
			return s, err
		}
	}
	s.Machine = machine(ctx, wrk)

	for r := range c.Rounds {
		for i, lp := range loadPaths {
			if r == 0 {
				s.Paths = append(s.Paths, &pathResult{Name: lp.Name, Want401: lp.Want != http.StatusOK})
			}
			// Alternate who goes first (ABBA) so a steady drift of the machine favours neither.
			order := []serverCmd{base, mock}
			if r%2 == 1 {
				order = []serverCmd{mock, base}
			}
			res := map[string]wrkResult{}
			for _, sc := range order {
				fmt.Fprintf(progress, "round %d/%d %s: %s ...\n", r+1, c.Rounds, lp.Name, sc.Name)
				m, err := measure(ctx, c, sc, lp, wrk, script)
				if err != nil {
					return s, err
				}
				res[sc.Name] = m.wrk
				s.Notes = append(s.Notes, anomalies(sc.Name, lp.Name, lp.Want != http.StatusOK, m.wrk)...)
				s.Notes = append(s.Notes, m.notes...)
				if sc.Name == base.Name {
					s.BaseStart, s.BaseRSS = append(s.BaseStart, m.startUp), max(s.BaseRSS, m.rss)
				} else {
					s.MockStart, s.MockRSS = append(s.MockStart, m.startUp), max(s.MockRSS, m.rss)
				}
			}
			s.Paths[i].add(res[base.Name], res[mock.Name])
		}
	}

	if c.Files > 0 {
		if err := benchFiles(ctx, c, &s, mock, tmp, progress); err != nil {
			return s, err
		}
	}
	keep = c.Keep
	return s, nil
}

// benchFiles times the mock's start over a directory of generated scenario files.
func benchFiles(ctx context.Context, c config, s *summary, mock serverCmd, tmp string, progress io.Writer) error {
	dir := filepath.Join(tmp, "scenarios")
	if err := writeScenarios(dir, c.Files); err != nil {
		return err
	}
	s.Files = c.Files
	withDir := mock
	withDir.Args = func(addr string) []string { return append(mock.Args(addr), "--scenarios", dir) }
	last := strings.TrimSuffix(fileName(c.Files), ".yaml")
	for i := range fileStarts {
		fmt.Fprintf(progress, "start %d/%d with %d scenario files ...\n", i+1, fileStarts, c.Files)
		p, err := startServer(ctx, withDir, startTimeout)
		if err != nil {
			return err
		}
		s.FilesStart = append(s.FilesStart, p.StartUp)
		// The last file must really be served, or the start proved nothing about loading.
		var perr error
		if !c.AA {
			perr = probeFile(ctx, p.Addr, last)
		}
		if err := errors.Join(perr, p.Stop()); err != nil {
			return fmt.Errorf("%s with --scenarios: %w", mock.Name, err)
		}
	}
	return nil
}

// measurement is one server's run of one path.
type measurement struct {
	wrk     wrkResult
	startUp time.Duration
	rss     int64
	notes   []string
}

// measure starts a fresh server process, checks it answers the path as expected, warms it up,
// drives the measured load and reads its peak RSS before stopping it.
func measure(ctx context.Context, c config, sc serverCmd, lp loadPath, wrk, script string) (m measurement, err error) {
	p, err := startServer(ctx, sc, startTimeout)
	if err != nil {
		return m, err
	}
	var warm wrkResult
	defer func() {
		if serr := p.Stop(); serr != nil {
			m.notes = append(m.notes, fmt.Sprintf("%s stop: %v", sc.Name, serr))
		}
		// The process's whole CPU time over every request it served: start-up is a few ms
		// against seconds of load, and unlike req/s this barely moves when the machine is busy.
		if n := warm.Requests + m.wrk.Requests; n > 0 {
			m.wrk.CPUPerReq = p.CPUTime() / time.Duration(n)
		}
	}()
	m.startUp = p.StartUp
	url := "http://" + p.Addr + tokenPath
	note, err := probe(ctx, url, lp)
	if err != nil {
		return m, fmt.Errorf("%s %s: %w", sc.Name, lp.Name, err)
	}
	if note != "" {
		m.notes = append(m.notes, sc.Name+" "+lp.Name+": "+note)
	}
	spec := loadSpec{Wrk: wrk, Script: script, URL: url, Headers: lp.Headers, Threads: c.Threads, Conns: c.Conns}
	if c.Warmup > 0 {
		spec.Duration = c.Warmup
		if warm, err = runWrk(ctx, spec); err != nil {
			return m, err
		}
	}
	spec.Duration = c.Duration
	if m.wrk, err = runWrk(ctx, spec); err != nil {
		return m, err
	}
	m.rss, err = p.PeakRSS()
	return m, err
}

// post sends one request with "Name: value" headers and returns status, headers and body.
func post(ctx context.Context, url string, headers []string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return nil, nil, err
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// probe checks one answer of the path, so the load measures the response it claims to:
// the status, and the token or the error code. A short token is a note, not a failure.
func probe(ctx context.Context, url string, lp loadPath) (note string, err error) {
	resp, body, err := post(ctx, url, lp.Headers)
	if err != nil {
		return "", fmt.Errorf("probe: %w", err)
	}
	if resp.StatusCode != lp.Want {
		return "", fmt.Errorf("probe: status %d, want %d: %s", resp.StatusCode, lp.Want, body)
	}
	if resp.Header.Get("Request-Id") == "" {
		note = "no Request-Id header"
	}
	var doc struct {
		AccessToken string `json:"access_token"`
		Errors      []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("probe: body is not JSON: %w: %s", err, body)
	}
	if lp.Want == http.StatusOK && len(doc.AccessToken) < 32 {
		note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("access_token has %d characters, the baseline's 32", len(doc.AccessToken))
	}
	if lp.Want != http.StatusOK && (len(doc.Errors) == 0 || doc.Errors[0].Code != missingScenario) {
		return "", fmt.Errorf("probe: want error code %s: %s", missingScenario, body)
	}
	return note, nil
}

// probeFile checks that a generated scenario is selectable by name.
func probeFile(ctx context.Context, addr, name string) error {
	resp, body, err := post(ctx, "http://"+addr+tokenPath, []string{"Authorization: Bearer x", "X-Mock-Scenario: " + name})
	if err != nil {
		return fmt.Errorf("probe %s: %w", name, err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Mock-Scenario") != name {
		return fmt.Errorf("probe %s: status %d, X-Mock-Scenario %q: %s", name, resp.StatusCode, resp.Header.Get("X-Mock-Scenario"), body)
	}
	return nil
}

// buildMock compiles ./cmd/fedtoken-mock from the module root, whatever the working directory.
func buildMock(ctx context.Context, tmp string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", fmt.Errorf("find the module root (run inside the repository): %v", err)
	}
	bin := filepath.Join(tmp, "fedtoken-mock")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/fedtoken-mock")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/fedtoken-mock: %w\n%s", err, out)
	}
	return bin, nil
}

// machine describes where the numbers came from, for the README table.
func machine(ctx context.Context, wrk string) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	// Other work on the machine is the main source of noise, so say how busy it was.
	load, _ := os.ReadFile("/proc/loadavg")
	load1, _, _ := strings.Cut(string(load), " ")
	// wrk -v prints its version and exits non-zero; the output is all we want.
	out, _ := exec.CommandContext(ctx, wrk, "-v").CombinedOutput()
	wrkVer, _, _ := strings.Cut(string(out), " [")
	return fmt.Sprintf("machine: %s, %d CPUs, Linux %s, %s, %s, load average %s at start, %s", cpu, runtime.NumCPU(),
		strings.TrimSpace(string(kernel)), runtime.Version(), strings.TrimSpace(wrkVer), load1, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
}
