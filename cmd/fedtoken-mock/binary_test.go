package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests build the real binary once (static, as the Docker image does) and run it.

// TestBinaryInEmptyEnvironment is the stand-in for running the scratch image: no files around the
// binary, no environment at all, and it still serves the endpoint and health.
func TestBinaryInEmptyEnvironment(t *testing.T) {
	bin := buildTestBinary(t)
	dir := t.TempDir()
	lone := filepath.Join(dir, "fedtoken-mock")
	raw, err := os.ReadFile(bin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(lone, raw, 0o755))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the binary")

	p := serveBinary(t, dir, []string{})
	waitHealthy(t, p.addr)
	resp, body := do(t, http.MethodGet, "http://"+p.addr+healthPath, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	var health struct{ Status, Version string }
	require.NoError(t, json.Unmarshal([]byte(body), &health), body)
	assert.Equal(t, "ok", health.Status)
	assert.Equal(t, testVersion, health.Version)

	resp, body = postToken(t, p.addr, "mobypay", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "application/json", strings.Split(resp.Header.Get("Content-Type"), ";")[0])
	var tok map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &tok))
	for _, k := range []string{"access_token", "token_type", "refresh_token", "expires_in", "scope"} {
		assert.Contains(t, tok, k)
	}
	p.signal(t, syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(t))
}

func TestBinaryServesScenarios(t *testing.T) {
	p := serveBinary(t, "", nil)
	tests := []struct {
		name     string
		provider string
		header   map[string]string
		status   int
		scenario string
		code     string
	}{
		{"default success", "mobypay", nil, http.StatusOK, "success", ""},
		{"header selects", "mobypay", map[string]string{"X-Mock-Scenario": "missing-linked-identity"},
			http.StatusUnauthorized, "missing-linked-identity", "missing-linked-identity"},
		{"no bearer token", "mobypay", map[string]string{"Authorization": ""}, http.StatusUnauthorized, "unauthorized", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := postToken(t, p.addr, tt.provider, tt.header)
			assert.Equal(t, tt.status, resp.StatusCode, body)
			assert.Equal(t, tt.scenario, resp.Header.Get("X-Mock-Scenario"))
			assert.NotEmpty(t, resp.Header.Get("Request-Id"))
			if tt.code != "" {
				var doc struct {
					Errors []struct{ ID, Status, Code string }
				}
				require.NoError(t, json.Unmarshal([]byte(body), &doc), body)
				require.Len(t, doc.Errors, 1)
				assert.Equal(t, tt.code, doc.Errors[0].Code)
				assert.Equal(t, resp.Header.Get("Request-Id"), doc.Errors[0].ID)
			}
		})
	}
	p.signal(t, syscall.SIGINT)
	assert.Equal(t, 0, p.wait(t))
	assert.Contains(t, p.stderr.String(), "scenario=missing-linked-identity", "one log line per request")
}

func TestBinaryVersion(t *testing.T) {
	code, stdout, stderr := runBinary(t, nil, "version")
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, "fedtoken-mock "+testVersion+"\n", stdout)
}

func TestBinaryValidate(t *testing.T) {
	good := writeFiles(t, map[string]string{"delayed.yaml": delayedScenario, "README.md": "not a scenario"})
	broken := writeFiles(t, map[string]string{"broken.yaml": brokenScenario, "delayed.yaml": delayedScenario})
	tests := []struct {
		name       string
		args       []string
		env        []string
		code       int
		stdout     string
		stderrLike string
	}{
		{"good dir", []string{"validate", good}, nil, 0, "ok: " + good + ": 1 scenario file(s)\n", ""},
		{"good dir from env", []string{"validate"}, []string{"FEDTOKEN_MOCK_SCENARIOS=" + good}, 0, "ok: ", ""},
		{"broken dir", []string{"validate", broken}, nil, 1, "", `(?m)^\S*broken\.yaml:\d+: .+$`},
		{"missing dir", []string{"validate", filepath.Join(good, "nope")}, nil, 2, "", `no such file or directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBinary(t, tt.env, tt.args...)
			assert.Equal(t, tt.code, code, stderr)
			if tt.stdout != "" {
				assert.Contains(t, stdout, tt.stdout)
			} else {
				assert.Empty(t, stdout)
			}
			if tt.stderrLike != "" {
				assert.Regexp(t, tt.stderrLike, stderr)
			}
		})
	}
}

func TestBinaryHealthcheck(t *testing.T) {
	p := serveBinary(t, "", nil)
	waitHealthy(t, p.addr)
	_, port, err := net.SplitHostPort(p.addr)
	require.NoError(t, err)
	tests := []struct {
		name string
		args []string
		env  []string
		code int
	}{
		{"flag", []string{"healthcheck", "--addr", p.addr}, nil, 0},
		{"env", []string{"healthcheck"}, []string{"FEDTOKEN_MOCK_ADDR=" + p.addr}, 0},
		{"PORT on the wildcard address", []string{"healthcheck"}, []string{"PORT=" + port}, 0},
		{"nothing there", []string{"healthcheck", "--addr", closedAddr(t)}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runBinary(t, tt.env, tt.args...)
			assert.Equal(t, tt.code, code, stderr)
		})
	}
}

// TestBinarySIGTERMLetsDelayedRequestFinish: a request held by a delay when SIGTERM arrives still
// gets its full response, and the process exits 0.
func TestBinarySIGTERMLetsDelayedRequestFinish(t *testing.T) {
	dir := writeFiles(t, map[string]string{"delayed.yaml": delayedScenario})
	p := serveBinary(t, "", nil, "--scenarios", dir, "--log-level", "debug")

	res := goToken(t, p.addr, "delayed")
	p.stderr.waitFor(t, "request started", 1)
	p.signal(t, syscall.SIGTERM)
	r := <-res

	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, "delayed-access-token")
	assert.Equal(t, 0, p.wait(t), p.stderr.String())
	out := p.stderr.String()
	assert.Contains(t, out, `msg="shutting down" reason=terminated`)
	assert.Contains(t, out, "in_flight=1")
	assert.Contains(t, out, "msg=stopped")
}

// TestBinarySIGTERMReleasesHangingRequest: a hanging scenario does not hold shutdown until its
// timeout; the mock releases it and the exit is clean.
func TestBinarySIGTERMReleasesHangingRequest(t *testing.T) {
	p := serveBinary(t, "", nil, "--log-level", "debug", "--shutdown-timeout", "20s")
	res := goToken(t, p.addr, "timeout")
	p.stderr.waitFor(t, "request started", 1)
	p.signal(t, syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(t), p.stderr.String())
	<-res // the client saw the end of the connection or a response; either way it returned
	assert.NotContains(t, p.stderr.String(), "shutdown timed out")
}

// TestBinaryShutdownTimeoutCutsRequests: a request still delayed at --shutdown-timeout is cut and
// the exit code (3) and a log line say so.
func TestBinaryShutdownTimeoutCutsRequests(t *testing.T) {
	dir := writeFiles(t, map[string]string{"late.yaml": longDelayScenario})
	p := serveBinary(t, "", nil, "--scenarios", dir, "--log-level", "debug", "--shutdown-timeout", "300ms")
	res := goToken(t, p.addr, "late")
	p.stderr.waitFor(t, "request started", 1)
	p.signal(t, syscall.SIGTERM)
	assert.Equal(t, exitCut, p.wait(t), p.stderr.String())
	assert.Error(t, (<-res).err, "the client sees its request cut")
	out := p.stderr.String()
	assert.Contains(t, out, `msg="shutdown timed out; cutting in-flight requests" timeout=300ms in_flight=1`)
	assert.Contains(t, out, "fedtoken-mock: shutdown timed out after 300ms: 1 request(s) cut")
}

// TestBinarySecondSignalForcesExit: during a graceful wait a second SIGINT/SIGTERM exits at once (4).
func TestBinarySecondSignalForcesExit(t *testing.T) {
	dir := writeFiles(t, map[string]string{"late.yaml": longDelayScenario})
	p := serveBinary(t, "", nil, "--scenarios", dir, "--log-level", "debug", "--shutdown-timeout", "60s")
	res := goToken(t, p.addr, "late")
	p.stderr.waitFor(t, "request started", 1)
	p.signal(t, syscall.SIGINT)
	p.stderr.waitFor(t, "shutting down", 1)
	p.signal(t, syscall.SIGINT)
	assert.Equal(t, exitForced, p.wait(t), p.stderr.String())
	<-res
	assert.Contains(t, p.stderr.String(), "msg=\"forced exit\" signal=interrupt in_flight=1")
}

// tokenResult is the outcome of a token request made in the background.
type tokenResult struct {
	status int
	body   string
	err    error
}

// goToken sends a token request for scenario in the background; the channel gets its outcome.
func goToken(t testing.TB, addr, scenario string) <-chan tokenResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+tokenPath("mobypay"), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer test-token")
	req.Header.Set("X-Mock-Scenario", scenario)
	res := make(chan tokenResult, 1)
	go func() {
		resp, err := (&http.Client{Timeout: waitLimit}).Do(req)
		if err != nil {
			res <- tokenResult{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		res <- tokenResult{status: resp.StatusCode, body: string(body), err: err}
	}()
	return res
}

// TestBinarySIGHUPReloads: SIGHUP picks up a new file; a broken set is refused with every
// problem logged and the previous set keeps serving.
func TestBinarySIGHUPReloads(t *testing.T) {
	dir := writeFiles(t, map[string]string{})
	p := serveBinary(t, "", nil, "--scenarios", dir)
	resp, _ := postToken(t, p.addr, "mobypay", map[string]string{"X-Mock-Scenario": "delayed"})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "not loaded yet")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "delayed.yaml"), []byte(strings.Replace(delayedScenario, "delay: 1500ms\n", "", 1)), 0o600))
	p.signal(t, syscall.SIGHUP)
	p.stderr.waitFor(t, "msg=reloaded", 1)
	resp, body := postToken(t, p.addr, "mobypay", map[string]string{"X-Mock-Scenario": "delayed"})
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte(brokenScenario), 0o600))
	p.signal(t, syscall.SIGHUP)
	out := p.stderr.waitFor(t, "reload failed", 1)
	assert.Regexp(t, `msg="reload failed; keeping the previous scenarios" problem="?\S*broken\.yaml:\d+: `, out)
	resp, body = postToken(t, p.addr, "mobypay", map[string]string{"X-Mock-Scenario": "delayed"})
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the previous set still serves: %s", body)

	p.signal(t, syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(t))
}

func TestBinaryPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	code, stdout, stderr := runBinary(t, []string{"FEDTOKEN_MOCK_ADDR=" + busy.Addr().String()})
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, stdout)
	assert.Regexp(t, `^fedtoken-mock: --addr: listen tcp \S+: bind: address already in use\n$`, stderr)
}

func TestBinaryStartupScenarioErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"broken.yaml": brokenScenario})
	code, _, stderr := runBinary(t, nil, "--addr", "127.0.0.1:0", "--scenarios", dir)
	assert.Equal(t, exitUsage, code)
	assert.Regexp(t, `(?m)^\S*broken\.yaml:\d+: .+$`, stderr)
	assert.NotContains(t, stderr, "goroutine ", "no stack trace")
}

func TestBinaryBadFlag(t *testing.T) {
	code, stdout, stderr := runBinary(t, []string{"FEDTOKEN_MOCK_LATENCY=soon"})
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, stdout)
	assert.Equal(t, `fedtoken-mock: invalid value "soon" for FEDTOKEN_MOCK_LATENCY: not a duration or a range MIN..MAX (e.g. 100ms, 50ms..150ms) (run 'fedtoken-mock help' for usage)`+"\n", stderr)
}
