package mock

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveness bounds how long a test waits for something that must happen; it guards against
// hangs and is never a performance claim.
const liveness = 10 * time.Second

// serveHTTP runs s behind a real loopback listener, closing the mock's held requests first.
func serveHTTP(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return ts
}

// freshClient uses its own transport so no test reuses another's connection.
func freshClient(t *testing.T, timeout time.Duration) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: timeout}
}

// clientPost sends an authorised POST for provider with extra "Name: value" headers.
func clientPost(ctx context.Context, c *http.Client, base, provider string, headers ...string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+tokenURL(provider), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer test-token")
	for _, kv := range headers {
		k, v, _ := strings.Cut(kv, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return c.Do(req)
}

// waitForSession returns once a request carrying session key has reached the handler.
func waitForSession(t *testing.T, s *Server, key string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, si := range s.Sessions() {
			if si.Key == key {
				return true
			}
		}
		return false
	}, liveness, time.Millisecond, "request with session %q never reached the handler", key)
}

func TestFaultsSeenByARealClient(t *testing.T) {
	s := newTestServer(t, Options{})
	ts := serveHTTP(t, s)
	files := fstest.MapFS{"empty.yaml": {Data: []byte("fault: empty-response\n")}}
	se := newTestServer(t, Options{Files: files})
	tse := serveHTTP(t, se)

	t.Run("connection-reset", func(t *testing.T) {
		resp, err := clientPost(t.Context(), freshClient(t, liveness), ts.URL, "mobypay", "X-Mock-Scenario: connection-reset")
		if err == nil {
			resp.Body.Close()
		}
		require.Error(t, err)
		assert.True(t, errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "connection reset"), "want a reset, got %v", err)
	})
	t.Run("empty-response", func(t *testing.T) {
		resp, err := clientPost(t.Context(), freshClient(t, liveness), tse.URL, "mobypay", "X-Mock-Scenario: empty")
		if err == nil {
			resp.Body.Close()
		}
		require.Error(t, err)
		assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "want EOF, got %v", err)
	})
	t.Run("malformed-body", func(t *testing.T) {
		resp, err := clientPost(t.Context(), freshClient(t, liveness), ts.URL, "mobypay", "X-Mock-Scenario: malformed-body")
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err, "the truncated body is complete by its Content-Length")
		var v map[string]any
		var syntax *json.SyntaxError
		require.ErrorAs(t, json.Unmarshal(body, &v), &syntax)
	})
	t.Run("timeout", func(t *testing.T) {
		_, err := clientPost(t.Context(), freshClient(t, 100*time.Millisecond), ts.URL, "mobypay", "X-Mock-Scenario: timeout", "X-Mock-Session: hang-timeout")
		require.Error(t, err)
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.Timeout(), "want a client timeout, got %v", err)
		// The handler notices the client left and returns: its journal entry appears.
		require.Eventually(t, func() bool { return len(s.Requests(RequestFilter{Session: "hang-timeout"})) == 1 }, liveness, time.Millisecond)
		assert.Equal(t, "hang", s.Requests(RequestFilter{Session: "hang-timeout"})[0].Fault)
	})
	t.Run("journal", func(t *testing.T) {
		got := s.Requests(RequestFilter{Scenario: "connection-reset"})
		require.Len(t, got, 1)
		assert.Equal(t, "connection-reset", got[0].Fault)
		assert.Zero(t, got[0].Status, "nothing was sent")
		got = s.Requests(RequestFilter{Scenario: "malformed-body"})
		require.Len(t, got, 1)
		assert.Equal(t, http.StatusOK, got[0].Status)
	})
	t.Run("the server keeps serving", func(t *testing.T) {
		resp, err := clientPost(t.Context(), freshClient(t, liveness), ts.URL, "mobypay")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

func TestHangReleasedByClose(t *testing.T) {
	s := newTestServer(t, Options{})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	const hanging = 3
	errs := make(chan error, hanging)
	for i := range hanging {
		go func() {
			resp, err := clientPost(context.Background(), freshClient(t, 0), ts.URL, "mobypay", "X-Mock-Scenario: timeout", "X-Mock-Session: held-"+string(rune('a'+i)))
			if err == nil {
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	for i := range hanging {
		waitForSession(t, s, "held-"+string(rune('a'+i)))
	}

	s.Close()
	for range hanging {
		select {
		case err := <-errs:
			assert.Error(t, err, "a released hang closes the connection without a response")
		case <-time.After(liveness):
			t.Fatal("Close did not release a hanging request")
		}
	}
	closed := make(chan struct{})
	go func() { ts.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(liveness):
		t.Fatal("httptest.Server.Close blocked after the mock's Close")
	}
	require.Eventually(t, func() bool { return len(s.Requests(RequestFilter{Scenario: "timeout"})) == hanging }, liveness, time.Millisecond)

	// After Close, the mock still answers, and a new hang returns at once.
	w := postToken(t, s.Handler(), "mobypay")
	assert.Equal(t, http.StatusOK, w.Code)
}

func TestDelayedResponseOutlivesClose(t *testing.T) {
	files := fstest.MapFS{"lag.yaml": {Data: []byte("status: 200\ndelay: 150ms\ncontract: off\nbody:\n  ok: true\n")}}
	s := newTestServer(t, Options{Files: files})
	ts := serveHTTP(t, s)
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := clientPost(context.Background(), freshClient(t, liveness), ts.URL, "p", "X-Mock-Scenario: lag", "X-Mock-Session: delayed")
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	waitForSession(t, s, "delayed")
	s.Close()
	select {
	case r := <-done:
		require.NoError(t, r.err)
		assert.Equal(t, http.StatusOK, r.status, "a graceful shutdown lets delayed responses finish")
	case <-time.After(liveness):
		t.Fatal("delayed request never finished")
	}
}

func TestDelays(t *testing.T) {
	files := fstest.MapFS{
		"lag.yaml":   {Data: []byte("status: 200\ndelay: 200ms\ncontract: off\nbody:\n  ok: true\n")},
		"range.yaml": {Data: []byte("status: 200\ndelay: 50ms..80ms\ncontract: off\nbody:\n  ok: true\n")},
		"seq.yaml":   {Data: []byte("sequence: [lag, success]\ndelay: 20ms\n")},
	}
	tests := []struct {
		name     string
		latency  string
		scenario string
		atLeast  time.Duration
	}{
		{"fixed delay from a user file", "", "lag", 200 * time.Millisecond},
		{"range delay", "", "range", 50 * time.Millisecond},
		{"global latency", "40ms", "success", 40 * time.Millisecond},
		{"latency range", "30ms..35ms", "success", 30 * time.Millisecond},
		{"latency adds to the scenario's delay", "100ms", "lag", 300 * time.Millisecond},
		{"a sequence's delay adds to its step's", "", "seq", 220 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, Options{Files: files, Latency: tt.latency})
			start := time.Now()
			w := postToken(t, s.Handler(), "p", "X-Mock-Scenario: "+tt.scenario)
			elapsed := time.Since(start)
			assert.Equal(t, http.StatusOK, w.Code)
			assert.GreaterOrEqual(t, elapsed, tt.atLeast, "lower bound only")
		})
	}
}

func TestDelayStopsWhenTheClientLeaves(t *testing.T) {
	s := newTestServer(t, Options{})
	ts := serveHTTP(t, s)
	// The built-in slow scenario waits 2-5 s; the client gives up long before.
	_, err := clientPost(t.Context(), freshClient(t, 50*time.Millisecond), ts.URL, "slowpoke")
	require.Error(t, err)
	require.Eventually(t, func() bool { return len(s.Requests(RequestFilter{Provider: "slowpoke"})) == 1 }, liveness, time.Millisecond)
	got := s.Requests(RequestFilter{Provider: "slowpoke"})[0]
	assert.Equal(t, "slow", got.Scenario)
	assert.Equal(t, "client-gone", got.Fault)
}

func TestLatencyOption(t *testing.T) {
	tests := []struct {
		latency string
		wantErr string
	}{
		{"", ""},
		{"50ms", ""},
		{"50ms..150ms", ""},
		{" 10ms .. 20ms ", ""},
		{"0s", ""},
		{"fast", `invalid duration "fast"`},
		{"50", `invalid duration "50"`},
		{"-1s", "negative"},
		{"2s..1s", "upper bound is below lower bound"},
		{"11m", "exceeds"},
		{"1s..", `invalid duration ""`},
		{"..1s", `invalid duration ""`},
		{"1s..2s..3s", "invalid duration"},
	}
	for _, tt := range tests {
		t.Run(tt.latency, func(t *testing.T) {
			s, err := New(Options{Latency: tt.latency})
			if tt.wantErr == "" {
				require.NoError(t, err)
				s.Close()
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "latency")
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
