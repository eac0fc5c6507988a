// Package mocktest runs a fedtoken mock on 127.0.0.1 for the length of one test, in the style of
// net/http/httptest:
//
//	m := mocktest.New(t)
//	m.Force(t, "internal-error")
//	// ... point the code under test at m.BaseURL() and call it ...
//	m.AssertRequested(t, "mobypay", 1)
//
// Each call builds its own mock.Server, so parallel tests never share switches or journals.
//
// The mock is built on gin, whose debug mode (the default) prints every route to stdout when a
// server is built. The helper leaves gin's process-wide mode alone; a test binary that wants quiet
// output (or runs Example functions) sets it once, e.g. gin.SetMode(gin.TestMode) in TestMain, or
// runs with GIN_MODE=release.
package mocktest

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/fedtoken/fedtoken-mock/mock"
)

// apiPrefix is the versioned base path the real API serves and the SDKs are configured with.
const apiPrefix = "/user/2021-2"

// TB is the part of testing.TB the helper needs; *testing.T and *testing.B satisfy it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	Logf(format string, args ...any)
}

// Option adjusts how New builds the mock.
type Option func(*config)

type config struct {
	opts mock.Options
	logs bool
}

// WithOptions starts from o instead of the zero mock.Options; later options still apply on top.
func WithOptions(o mock.Options) Option { return func(c *config) { c.opts = o } }

// WithSeed makes fake data reproducible (see mock.Options.Seed).
func WithSeed(seed uint64) Option { return func(c *config) { c.opts.Seed = seed } }

// WithFiles layers user scenario files over the built-ins (see mock.Options.Files).
func WithFiles(fsys fs.FS) Option { return func(c *config) { c.opts.Files = fsys } }

// WithLogs sends the mock's log lines (one per request) to t.Logf, shown by go test -v or on
// failure; it replaces Options.Logger.
func WithLogs() Option { return func(c *config) { c.logs = true } }

// Server is a mock listening on a loopback port until the test that started it ends.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT, with no trailing slash.
	URL string
	// Server is the mock itself, for switches (SetScenario, Reset, ...) and the journal.
	Server *mock.Server

	http *httptest.Server
	logs *testLogHandler
	once sync.Once
}

// New starts a mock on 127.0.0.1:0 and closes it when t's test ends; it fails t if the
// scenarios do not load.
func New(t TB, opts ...Option) *Server {
	t.Helper()
	var c config
	for _, opt := range opts {
		opt(&c)
	}
	var logs *testLogHandler
	if c.logs {
		logs = &testLogHandler{t: t, state: &testLogState{}}
		c.opts.Logger = slog.New(logs)
	}
	ms, err := mock.New(c.opts)
	if err != nil {
		t.Fatalf("mocktest: start the mock: %v", err)
		return nil
	}
	s := &Server{Server: ms, http: httptest.NewServer(ms.Handler()), logs: logs}
	s.URL = s.http.URL
	t.Cleanup(s.Close)
	return s
}

// Close releases requests held by hanging scenarios, then shuts the listener down and waits for
// the requests in flight. New registers it with t.Cleanup; calling it earlier is safe.
func (s *Server) Close() {
	s.once.Do(func() {
		// The mock first: httptest waits for in-flight requests, and a hang would never finish.
		s.Server.Close()
		s.http.Close()
		if s.logs != nil {
			s.logs.state.stop()
		}
	})
}

// BaseURL is what an SDK or API client is configured with: URL plus the /user/2021-2 prefix.
func (s *Server) BaseURL() string { return s.URL + apiPrefix }

// TokenURL is the full token endpoint URL for provider.
func (s *Server) TokenURL(provider string) string {
	return s.BaseURL() + "/federated-identities/" + url.PathEscape(provider) + "/token"
}

// Client returns an http.Client wired to the server, closed with it.
func (s *Server) Client() *http.Client { return s.http.Client() }

// Force makes every request that no header selects answer with scenario, failing t if no
// scenario has that name; opts (mock.Times, mock.TTL) make the switch expire.
func (s *Server) Force(t TB, scenario string, opts ...mock.SwitchOption) {
	t.Helper()
	if err := s.Server.SetScenario(scenario, opts...); err != nil {
		t.Fatalf("mocktest: force scenario: %v", err)
	}
}

// ForceProvider makes requests for one provider answer with scenario, failing t on an unknown name.
func (s *Server) ForceProvider(t TB, provider, scenario string, opts ...mock.SwitchOption) {
	t.Helper()
	if err := s.Server.SetProviderScenario(provider, scenario, opts...); err != nil {
		t.Fatalf("mocktest: force scenario for provider %q: %v", provider, err)
	}
}

// Requests returns the recorded requests that match f, oldest first.
func (s *Server) Requests(f mock.RequestFilter) []mock.Request { return s.Server.Requests(f) }

// AssertRequested fails t unless exactly n requests reached the token endpoint for provider
// ("" counts every provider); it returns them, oldest first, for further checks.
func (s *Server) AssertRequested(t TB, provider string, n int) []mock.Request {
	t.Helper()
	got := s.Server.Requests(mock.RequestFilter{Provider: provider})
	if len(got) != n {
		what := "requests"
		if provider != "" {
			what = fmt.Sprintf("requests for provider %q", provider)
		}
		t.Fatalf("mocktest: got %d %s, want %d; journal:\n%s", len(got), what, n, describe(s.Server.Requests(mock.RequestFilter{})))
	}
	return got
}

// describe lists journal entries one per line, for failure messages.
func describe(reqs []mock.Request) string {
	if len(reqs) == 0 {
		return "  (empty)"
	}
	var b strings.Builder
	for _, r := range reqs {
		step := ""
		if r.Step != "" {
			step = " step " + r.Step
		}
		fmt.Fprintf(&b, "  %s %s -> %d %s%s (selected by %s)\n", r.Method, r.Path, r.Status, r.Scenario, step, r.SelectedBy)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// testLogState is shared by a handler and the handlers WithAttrs/WithGroup derive from it.
type testLogState struct {
	mu      sync.RWMutex
	stopped bool
}

// stop waits for log calls in progress, then turns logging off: testing panics on Logf after the
// test has ended, and hijacked connections (faults) can outlive httptest's Close.
func (st *testLogState) stop() {
	st.mu.Lock()
	st.stopped = true
	st.mu.Unlock()
}

// testLogHandler writes slog records through t.Logf as "LEVEL message key=value ...".
type testLogHandler struct {
	t      TB
	state  *testLogState
	prefix string // attributes added by WithAttrs, already formatted
	group  string // the open group, prefixed to later keys
}

func (h *testLogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *testLogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String())
	b.WriteByte(' ')
	b.WriteString(r.Message)
	b.WriteString(h.prefix)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.group, a)
		return true
	})
	h.state.mu.RLock()
	defer h.state.mu.RUnlock()
	if !h.state.stopped {
		h.t.Logf("mock: %s", b.String())
	}
	return nil
}

func appendAttr(b *strings.Builder, group string, a slog.Attr) {
	if a.Equal(slog.Attr{}) {
		return
	}
	key := a.Key
	if group != "" {
		key = group + "." + key
	}
	fmt.Fprintf(b, " %s=%v", key, a.Value.Resolve())
}

func (h *testLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	var b strings.Builder
	b.WriteString(h.prefix)
	for _, a := range attrs {
		appendAttr(&b, h.group, a)
	}
	c.prefix = b.String()
	return &c
}

func (h *testLogHandler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
