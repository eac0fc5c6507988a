package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Shared helpers for the tests of this package: the binary built once per test run, a running
// binary or in-process run() with its logs, and token/admin requests.

// testVersion is stamped into the test binary with -ldflags, as the Dockerfile stamps VERSION.
const testVersion = "v0.0.0-test"

// waitLimit bounds every wait on a process; tests synchronise on log lines and health, never on
// sleeps, and this only turns a hang into a failure.
const waitLimit = 30 * time.Second

// testBinary is built lazily by buildTestBinary and removed by TestMain.
var testBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testBinary.dir != "" {
		_ = os.RemoveAll(testBinary.dir)
	}
	os.Exit(code)
}

// buildTestBinary builds the command once per test run as the Dockerfile does (static, trimmed)
// and returns its path.
func buildTestBinary(t testing.TB) string {
	t.Helper()
	testBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "fedtoken-mock-bin-")
		if err != nil {
			testBinary.err = err
			return
		}
		testBinary.dir = dir
		testBinary.path = filepath.Join(dir, "fedtoken-mock")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+testVersion,
			"-o", testBinary.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			testBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, testBinary.err)
	return testBinary.path
}

// logs is the output of a server under test, searchable while it grows.
type logs struct{ syncBuffer }

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)(?: admin_addr=(\S+))?`)

// waitFor polls until the output holds substr at least n times, and returns the output.
func (l *logs) waitFor(t testing.TB, substr string, n int) string {
	t.Helper()
	var out string
	ok := assert.Eventually(t, func() bool {
		out = l.String()
		return strings.Count(out, substr) >= n
	}, waitLimit, 5*time.Millisecond, "waiting for %d× %q", n, substr)
	if !ok {
		t.Fatalf("output so far:\n%s", out)
	}
	return out
}

// proc is a running fedtoken-mock binary.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *logs
	addr, admin    string // bound addresses from the listening line
	done           chan struct{}
	code           int
}

// startBinary runs the test binary in dir (a fresh temp dir if empty) with exactly env, and waits
// for its listening line when serving.
func startBinary(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if env == nil {
		env = []string{} // an empty, not the inherited, environment
	}
	p := &proc{stdout: &logs{}, stderr: &logs{}, done: make(chan struct{})}
	p.cmd = exec.Command(buildTestBinary(t), args...)
	p.cmd.Dir, p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = dir, env, p.stdout, p.stderr
	require.NoError(t, p.cmd.Start())
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// serveBinary starts the binary serving on loopback port 0 and waits until it listens.
func serveBinary(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := startBinary(t, dir, env, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	var m []string
	require.Eventually(t, func() bool {
		m = listeningRE.FindStringSubmatch(p.stderr.String())
		return m != nil || p.exited()
	}, waitLimit, 5*time.Millisecond)
	require.NotNil(t, m, "no listening line; exit %d; stderr:\n%s", p.code, p.stderr.String())
	p.addr, p.admin = m[1], m[2]
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait returns the exit code once the process ends.
func (p *proc) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(waitLimit):
		t.Fatalf("process did not exit; stderr:\n%s", p.stderr.String())
		return -1
	}
}

func (p *proc) signal(t testing.TB, s syscall.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(s))
}

// runBinary runs a one-shot command of the binary and returns its exit code and output.
func runBinary(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	p := startBinary(t, "", env, args...)
	code = p.wait(t)
	return code, p.stdout.String(), p.stderr.String()
}

// inproc is run() serving inside the test process.
type inproc struct {
	stdout, stderr *logs
	addr, admin    string
	cancel         context.CancelFunc
	errc           chan error
}

// startRun calls run in a goroutine with a fake environment and waits for its ready callback.
func startRun(t *testing.T, args []string, env map[string]string) *inproc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &inproc{stdout: &logs{}, stderr: &logs{}, cancel: cancel, errc: make(chan error, 1)}
	ready := make(chan [2]string, 1)
	go func() {
		p.errc <- run(ctx, args, envOf(env), p.stdout, p.stderr, func(a, b string) { ready <- [2]string{a, b} })
	}()
	select {
	case r := <-ready:
		p.addr, p.admin = r[0], r[1]
	case err := <-p.errc:
		cancel()
		t.Fatalf("run ended before listening: %v\nstderr:\n%s", err, p.stderr.String())
	case <-time.After(waitLimit):
		cancel()
		t.Fatal("run did not listen")
	}
	t.Cleanup(func() { _ = p.stop(t) })
	return p
}

// stop cancels run's context (a graceful shutdown) and returns what run returned.
func (p *inproc) stop(t testing.TB) error {
	t.Helper()
	p.cancel()
	select {
	case err, ok := <-p.errc:
		if ok {
			close(p.errc)
		}
		return err
	case <-time.After(waitLimit):
		t.Fatal("run did not return after cancel")
		return nil
	}
}

// tokenPath is the endpoint path for a provider.
func tokenPath(provider string) string {
	return "/user/2021-2/federated-identities/" + provider + "/token"
}

// do sends one request to a server under test and returns the response with its body read.
func do(t testing.TB, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: waitLimit}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// postToken calls the token endpoint with a bearer token and any extra headers.
func postToken(t testing.TB, addr, provider string, header map[string]string) (*http.Response, string) {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer test-token", "Accept": "application/vnd.api+json"}
	for k, v := range header {
		h[k] = v
	}
	return do(t, http.MethodPost, "http://"+addr+tokenPath(provider), h)
}

// waitHealthy polls health until it answers 200.
func waitHealthy(t testing.TB, addr string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	require.Eventually(t, func() bool {
		resp, err := client.Get("http://" + addr + healthPath)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, waitLimit, 5*time.Millisecond)
}

// writeFiles creates a directory holding the given files.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	return dir
}

// Scenario files used by several tests.
const (
	delayedScenario = `description: Success after a deliberate delay, for shutdown tests.
status: 200
delay: 1500ms
body:
  access_token: delayed-access-token
  token_type: Bearer
  refresh_token: delayed-refresh-token
  expires_in: 3600
  scope: openid
`
	longDelayScenario = `description: Success after a long delay, for shutdown cut tests.
status: 200
delay: 20s
body:
  access_token: late-access-token
  token_type: Bearer
  refresh_token: late-refresh-token
  expires_in: 3600
  scope: openid
`
	brokenScenario = `description: Broken on purpose.
status: 999
colour: blue
`
)
