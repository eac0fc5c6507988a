package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/fedtoken/fedtoken-mock/mock"
)

// healthTimeout bounds the healthcheck: an orchestrator's probe must answer quickly even when the
// server is wedged, and Docker's own HEALTHCHECK timeout (3s in the Dockerfile) is above it.
const healthTimeout = 2 * time.Second

// buildVersion is the link-time version, else the module version from the build info (a
// `go install ...@v1.2.3` build), else the VCS revision, else "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev != "" {
		return "dev-" + rev[:min(12, len(rev))] + dirty
	}
	return "dev"
}

// validate checks dir exactly as start-up would. Problems go to stderr as file:line: message and
// exit 1; a clean directory prints one "ok" line on stdout.
func validate(dir string, stdout, stderr io.Writer) error {
	if err := checkDir(dir); err != nil {
		return withCode(exitUsage, err)
	}
	err := mock.ValidateDir(dir)
	var le *mock.LoadError
	if errors.As(err, &le) {
		for _, p := range le.Problems {
			fmt.Fprintln(stderr, p.String())
		}
		return withCode(exitFailure, fmt.Errorf("%s: %d problem(s)", dir, len(le.Problems)))
	}
	if err != nil {
		return withCode(exitFailure, fmt.Errorf("validate %s: %w", dir, err))
	}
	fmt.Fprintf(stdout, "ok: %s: %d scenario file(s)\n", dir, countScenarioFiles(dir))
	return nil
}

// checkDir turns a missing or unreadable scenario directory into one clear line.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("scenario directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("scenario directory: %s is not a directory", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("scenario directory: %w", err)
	}
	defer f.Close()
	if _, err := f.ReadDir(1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("scenario directory: %w", err)
	}
	return nil
}

// countScenarioFiles counts the files the loader reads (top level, .yaml/.yml/.json, no dotfiles),
// for validate's summary.
func countScenarioFiles(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			n++
		}
	}
	return n
}

// healthURL is the health endpoint of the instance these flags describe: the admin listener when
// there is one, with a wildcard host (":8080", "0.0.0.0", "::") asked on the loopback.
func healthURL(cfg config) string {
	addr := cfg.addr
	if cfg.adminAddr != "" {
		addr = cfg.adminAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = "", strings.TrimPrefix(addr, ":")
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + healthPath
}

// healthcheck asks a running instance for its health: exit 0 on 200, else 1 with the reason.
func healthcheck(ctx context.Context, cfg config, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	url := healthURL(cfg)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return withCode(exitFailure, fmt.Errorf("healthcheck: %w", err))
	}
	if cfg.adminToken != "" {
		// Health is open either way; the token does no harm and survives a stricter future.
		req.Header.Set("Authorization", "Bearer "+cfg.adminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return withCode(exitFailure, fmt.Errorf("healthcheck: %w", err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return withCode(exitFailure, fmt.Errorf("healthcheck: %s answered %s", url, resp.Status))
	}
	var compact bytes.Buffer
	if json.Compact(&compact, body) != nil {
		compact.Reset()
		compact.WriteString(strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "healthy: %s\n", compact.String())
	return nil
}
