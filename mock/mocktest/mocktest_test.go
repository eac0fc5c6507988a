package mocktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedtoken/fedtoken-mock/mock"
	"github.com/fedtoken/fedtoken-mock/mock/mocktest"
)

// TestMain quiets gin's debug output: the test binary owns the process, so it may set the mode.
func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// recordingTB stands in for *testing.T where a test must watch the helper fail or clean up.
type recordingTB struct {
	mu       sync.Mutex
	fatals   []string
	logs     []string
	cleanups []func()
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// finish runs the cleanups last-registered first, as testing does.
func (r *recordingTB) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}

func (r *recordingTB) snapshot() (fatals, logs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.fatals...), append([]string(nil), r.logs...)
}

// post sends an authorised POST to url with extra "Name: value" headers.
func post(t *testing.T, c *http.Client, url string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer test-token")
	for _, kv := range headers {
		k, v, _ := strings.Cut(kv, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func TestURLs(t *testing.T) {
	m := mocktest.New(t)
	assert.True(t, strings.HasPrefix(m.URL, "http://127.0.0.1:"), m.URL)
	assert.False(t, strings.HasSuffix(m.URL, "/"), m.URL)
	assert.Equal(t, m.URL+"/user/2021-2", m.BaseURL())
	assert.Equal(t, m.URL+"/user/2021-2/federated-identities/mobypay/token", m.TokenURL("mobypay"))
	assert.Equal(t, m.URL+"/user/2021-2/federated-identities/a%2Fb/token", m.TokenURL("a/b"), "a provider is one path segment")

	resp := post(t, m.Client(), m.TokenURL("mobypay"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "success", resp.Header.Get("X-Mock-Scenario"))
	assert.Equal(t, "default", resp.Header.Get("X-Mock-Selected-By"))
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	assert.NotEmpty(t, tok.AccessToken)
	assert.Equal(t, 3600, tok.ExpiresIn)
}

func TestForceAndAssert(t *testing.T) {
	m := mocktest.New(t)
	m.Force(t, "internal-error")
	m.ForceProvider(t, "unlinked-co", "missing-linked-identity")

	tests := []struct {
		provider, scenario, selectedBy string
		status                         int
	}{
		{"mobypay", "internal-error", "global-switch", http.StatusInternalServerError},
		{"unlinked-co", "missing-linked-identity", "provider-switch", http.StatusUnauthorized},
		{"mobypay", "internal-error", "global-switch", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		resp := post(t, m.Client(), m.TokenURL(tt.provider))
		assert.Equal(t, tt.status, resp.StatusCode, tt.provider)
		assert.Equal(t, tt.scenario, resp.Header.Get("X-Mock-Scenario"))
		assert.Equal(t, tt.selectedBy, resp.Header.Get("X-Mock-Selected-By"))
	}

	reqs := m.AssertRequested(t, "mobypay", 2)
	for _, r := range reqs {
		assert.Equal(t, "internal-error", r.Scenario)
		assert.Equal(t, http.StatusInternalServerError, r.Status)
	}
	m.AssertRequested(t, "", 3)
	assert.Len(t, m.Requests(mock.RequestFilter{Scenario: "missing-linked-identity"}), 1)
}

func TestForceWithTimes(t *testing.T) {
	m := mocktest.New(t)
	m.Force(t, "not-found", mock.Times(1))
	assert.Equal(t, http.StatusNotFound, post(t, m.Client(), m.TokenURL("mobypay")).StatusCode)
	assert.Equal(t, http.StatusOK, post(t, m.Client(), m.TokenURL("mobypay")).StatusCode)
}

func TestFailuresReportThroughTB(t *testing.T) {
	tests := []struct {
		name string
		do   func(rt *recordingTB, m *mocktest.Server)
		want []string
	}{
		{
			name: "force unknown scenario",
			do:   func(rt *recordingTB, m *mocktest.Server) { m.Force(rt, "no-such") },
			want: []string{"force scenario", `"no-such"`, "known: success"},
		},
		{
			name: "force provider unknown scenario",
			do:   func(rt *recordingTB, m *mocktest.Server) { m.ForceProvider(rt, "mobypay", "no-such") },
			want: []string{`provider "mobypay"`, "known: success"},
		},
		{
			name: "assert count off, journal empty",
			do:   func(rt *recordingTB, m *mocktest.Server) { m.AssertRequested(rt, "mobypay", 1) },
			want: []string{`got 0 requests for provider "mobypay", want 1`, "(empty)"},
		},
		{
			name: "assert count off lists the journal",
			do: func(rt *recordingTB, m *mocktest.Server) {
				req := httptest.NewRequest(http.MethodPost, "/user/2021-2/federated-identities/other/token", nil)
				req.Header.Set("Authorization", "Bearer x")
				req.Header.Set("X-Mock-Scenario", "refresh-then-success")
				m.Server.Handler().ServeHTTP(httptest.NewRecorder(), req)
				m.AssertRequested(rt, "", 2)
			},
			want: []string{"got 1 requests, want 2", "POST /user/2021-2/federated-identities/other/token -> 401 refresh-then-success step unauthorized (selected by header)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mocktest.New(t)
			rt := &recordingTB{}
			tt.do(rt, m)
			fatals, _ := rt.snapshot()
			require.Len(t, fatals, 1)
			for _, w := range tt.want {
				assert.Contains(t, fatals[0], w)
			}
		})
	}
}

func TestNewFailsOnBadScenarios(t *testing.T) {
	rt := &recordingTB{}
	files := fstest.MapFS{"broken.yaml": {Data: []byte("status: 999\n")}}
	m := mocktest.New(rt, mocktest.WithFiles(files))
	assert.Nil(t, m)
	fatals, _ := rt.snapshot()
	require.Len(t, fatals, 1)
	assert.Contains(t, fatals[0], "files/broken.yaml:1:")
	assert.Empty(t, rt.cleanups, "nothing to clean up when nothing started")
}

func TestOptionsPassThrough(t *testing.T) {
	files := fstest.MapFS{"teapot.yaml": {Data: []byte("status: 418\ncontract: off\nproviders: [teapot]\nbody:\n  short: stout\n")}}
	m := mocktest.New(t, mocktest.WithOptions(mock.Options{AuthOff: true, Version: "v9"}), mocktest.WithFiles(files), mocktest.WithSeed(7))

	// AuthOff: no Authorization header needed.
	resp, err := m.Client().Post(m.TokenURL("teapot"), "application/json", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusTeapot, resp.StatusCode)
	assert.Equal(t, "provider", resp.Header.Get("X-Mock-Selected-By"))
	assert.Equal(t, "v9", m.Server.Health().Version)
}

func TestSeedGivesStableData(t *testing.T) {
	token := func(m *mocktest.Server) string {
		resp := post(t, m.Client(), m.TokenURL("mobypay"))
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
		return tok.AccessToken
	}
	a, b := mocktest.New(t, mocktest.WithSeed(42)), mocktest.New(t, mocktest.WithSeed(42))
	assert.Equal(t, token(a), token(b))
	c := mocktest.New(t, mocktest.WithSeed(43))
	assert.NotEqual(t, token(a), token(c))
}

func TestServersAreIndependent(t *testing.T) {
	a, b := mocktest.New(t), mocktest.New(t)
	a.Force(t, "internal-error")
	assert.Equal(t, http.StatusInternalServerError, post(t, a.Client(), a.TokenURL("p")).StatusCode)
	assert.Equal(t, http.StatusOK, post(t, b.Client(), b.TokenURL("p")).StatusCode)
	a.AssertRequested(t, "p", 1)
	b.AssertRequested(t, "p", 1)
}

func TestCleanupClosesTheServer(t *testing.T) {
	rt := &recordingTB{}
	m := mocktest.New(rt)
	require.Len(t, rt.cleanups, 1)
	url := m.TokenURL("mobypay")
	assert.Equal(t, http.StatusOK, post(t, m.Client(), url).StatusCode)
	rt.finish()

	c := &http.Client{Timeout: 5 * time.Second}
	req, err := http.NewRequest(http.MethodPost, url, nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	require.Error(t, err, "the listener is closed after cleanup")
	m.Close() // a second Close is harmless
}

func TestCloseReleasesHangingRequest(t *testing.T) {
	rt := &recordingTB{}
	m := mocktest.New(rt)
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, m.TokenURL("mobypay"), nil)
		if err != nil {
			done <- err
			return
		}
		req.Header.Set("Authorization", "Bearer x")
		req.Header.Set("X-Mock-Scenario", "timeout")
		req.Header.Set("X-Mock-Session", "hang-1")
		resp, err := m.Client().Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		done <- err
	}()
	// The session appears once the request is inside the handler, before it starts to hang.
	require.Eventually(t, func() bool { return len(m.Server.Sessions()) == 1 }, 5*time.Second, time.Millisecond)

	closed := make(chan struct{})
	go func() { rt.finish(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("cleanup blocked on a hanging request")
	}
	select {
	case err := <-done:
		assert.Error(t, err, "a hang ends with the connection closed, no response")
	case <-time.After(10 * time.Second):
		t.Fatal("the hanging request was not released")
	}
}

func TestWithLogs(t *testing.T) {
	rt := &recordingTB{}
	m := mocktest.New(rt, mocktest.WithLogs())
	req := httptest.NewRequest(http.MethodPost, "/user/2021-2/federated-identities/mobypay/token", nil)
	req.Header.Set("Authorization", "Bearer secret-value")
	m.Server.Handler().ServeHTTP(httptest.NewRecorder(), req)
	_, logs := rt.snapshot()
	require.Len(t, logs, 1)
	assert.Contains(t, logs[0], "mock: INFO request ")
	assert.Contains(t, logs[0], "provider=mobypay")
	assert.Contains(t, logs[0], "status=200")
	assert.NotContains(t, logs[0], "secret-value")

	rt.finish()
	m.Server.Handler().ServeHTTP(httptest.NewRecorder(), req)
	_, logs = rt.snapshot()
	assert.Len(t, logs, 1, "no Logf after the test's cleanup: testing would panic")
}

func TestWithLogsReplacesLogger(t *testing.T) {
	var buf bytes.Buffer
	rt := &recordingTB{}
	m := mocktest.New(rt, mocktest.WithOptions(mock.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))}), mocktest.WithLogs())
	defer rt.finish()
	req := httptest.NewRequest(http.MethodPost, "/user/2021-2/federated-identities/mobypay/token", nil)
	m.Server.Handler().ServeHTTP(httptest.NewRecorder(), req)
	_, logs := rt.snapshot()
	assert.Len(t, logs, 1)
	assert.Zero(t, buf.Len())
}

func TestLeavesGinGlobalsAlone(t *testing.T) {
	mode, out, errOut := gin.Mode(), gin.DefaultWriter, gin.DefaultErrorWriter
	m := mocktest.New(t, mocktest.WithLogs())
	resp := post(t, m.Client(), m.TokenURL("mobypay"))
	_, _ = io.Copy(io.Discard, resp.Body)
	assert.Equal(t, mode, gin.Mode())
	assert.Same(t, out, gin.DefaultWriter)
	assert.Same(t, errOut, gin.DefaultErrorWriter)
}

func TestParallelTestsEachGetTheirOwn(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			m := mocktest.New(t)
			scenario := []string{"success", "not-found", "internal-error", "missing-linked-identity"}[i]
			m.Force(t, scenario)
			for range 5 {
				resp := post(t, m.Client(), m.TokenURL("mobypay"))
				assert.Equal(t, scenario, resp.Header.Get("X-Mock-Scenario"))
			}
			m.AssertRequested(t, "mobypay", 5)
		})
	}
}
