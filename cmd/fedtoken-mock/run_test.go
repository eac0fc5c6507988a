package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests drive run() in process, on 127.0.0.1:0, with a fake environment.

func TestRunServesUntilCancelled(t *testing.T) {
	p := startRun(t, nil, map[string]string{"FEDTOKEN_MOCK_ADDR": "127.0.0.1:0", "FEDTOKEN_MOCK_SEED": "7"})
	waitHealthy(t, p.addr)
	assert.Empty(t, p.admin)

	resp, body := postToken(t, p.addr, "mobypay", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	var tok map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &tok))
	assert.NotEmpty(t, tok["access_token"])

	// The listening line names the real bound port, not the :0 asked for.
	out := p.stderr.waitFor(t, "msg=listening", 1)
	assert.Contains(t, out, "msg=listening addr="+p.addr+" ")

	require.NoError(t, p.stop(t))
	out = p.stderr.String()
	assert.Contains(t, out, "msg=\"shutting down\"")
	assert.Contains(t, out, "msg=stopped")
	assert.Empty(t, p.stdout.String())
}

func TestRunJSONLogs(t *testing.T) {
	p := startRun(t, []string{"--log-format", "json", "--addr", "127.0.0.1:0"}, nil)
	waitHealthy(t, p.addr)
	require.NoError(t, p.stop(t))
	var first struct {
		Msg, Addr string
	}
	line, _, _ := strings.Cut(p.stderr.String(), "\n")
	require.NoError(t, json.Unmarshal([]byte(line), &first), line)
	assert.Equal(t, "listening", first.Msg)
	assert.Equal(t, p.addr, first.Addr)
}

func TestRunSeparateAdminAddr(t *testing.T) {
	p := startRun(t, []string{"--addr", "127.0.0.1:0"}, map[string]string{"FEDTOKEN_MOCK_ADMIN_ADDR": "127.0.0.1:0"})
	require.NotEmpty(t, p.admin)
	require.NotEqual(t, p.addr, p.admin)
	waitHealthy(t, p.admin)
	assert.Regexp(t, `msg=listening addr=`+regexp.QuoteMeta(p.addr)+` admin_addr=`+regexp.QuoteMeta(p.admin), p.stderr.String())

	tests := []struct {
		name, method, addr, path string
		want                     int
	}{
		{"endpoint on --addr", http.MethodPost, p.addr, tokenPath("mobypay"), http.StatusOK},
		{"no admin on --addr", http.MethodGet, p.addr, healthPath, http.StatusNotFound},
		{"admin on --admin-addr", http.MethodGet, p.admin, healthPath, http.StatusOK},
		{"no endpoint on --admin-addr", http.MethodPost, p.admin, tokenPath("mobypay"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, "http://"+tt.addr+tt.path, map[string]string{"Authorization": "Bearer x"})
			assert.Equal(t, tt.want, resp.StatusCode, body)
		})
	}

	// healthcheck follows the admin address when one is configured.
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"healthcheck", "--addr", p.addr, "--admin-addr", p.admin}, envOf(nil), &stdout, &stderr, nil)
	assert.NoError(t, err, stderr.String())
}

func TestRunNeverLogsTheAdminToken(t *testing.T) {
	const secret = "s3cret-admin-token-value"
	p := startRun(t, []string{"--addr", "127.0.0.1:0", "--log-level", "debug"},
		map[string]string{"FEDTOKEN_MOCK_ADMIN_TOKEN": secret})
	waitHealthy(t, p.addr)

	resp, _ := do(t, http.MethodGet, "http://"+p.addr+"/__admin/state", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the token is required")
	resp, _ = do(t, http.MethodGet, "http://"+p.addr+"/__admin/state", map[string]string{"Authorization": "Bearer " + secret})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = do(t, http.MethodGet, "http://"+p.addr+"/__admin/state", map[string]string{"Authorization": "Bearer wrong-" + secret})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	postToken(t, p.addr, "mobypay", map[string]string{"Authorization": "Bearer " + secret})

	require.NoError(t, p.stop(t))
	out := p.stderr.String()
	assert.Contains(t, out, "request started", "debug logging was on")
	assert.NotContains(t, out, secret)
}

func TestRunStartupScenarioErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"broken.yaml": brokenScenario})
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--scenarios", dir}, envOf(nil), &stdout, &stderr, nil)
	require.Error(t, err)
	assert.Equal(t, exitUsage, exitCode(err, &stderr))
	assert.Regexp(t, `(?m)^\S*broken\.yaml:\d+: .+$`, stderr.String())
	assert.Contains(t, stderr.String(), "problem(s) in scenario files")
	assert.NotContains(t, stderr.String(), "msg=listening")
}

func TestRunPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		flag string
	}{
		{"addr", []string{"--addr", busy.Addr().String()}, "--addr"},
		{"admin addr", []string{"--addr", "127.0.0.1:0", "--admin-addr", busy.Addr().String()}, "--admin-addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, envOf(nil), &stdout, &stderr, nil)
			assert.Equal(t, exitUsage, exitCode(err, &stderr))
			assert.Regexp(t, `^fedtoken-mock: `+tt.flag+`: listen tcp \S+: bind: address already in use\n$`, stderr.String())
		})
	}
}
