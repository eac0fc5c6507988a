package mock

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// update rewrites the golden files: go test ./mock -run Golden -update
var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the current responses")

// goldenRequest is one request of a golden exchange.
type goldenRequest struct {
	method string
	path   string
	header []string // "Name: value"
}

// goldenCase is the wire exchange recorded in testdata/golden/<name>.golden.
type goldenCase struct {
	name     string
	requests []goldenRequest
}

func scenarioRequest(name string) goldenRequest {
	return goldenRequest{http.MethodPost, tokenURL("mobypay"), []string{"Authorization: Bearer test-token", "X-Mock-Scenario: " + name}}
}

// goldenSkipped are built-ins that send no response to record, with where they are tested instead.
var goldenSkipped = map[string]string{
	"timeout":          "sends nothing until the client gives up: TestFaultsThatSendNothing",
	"connection-reset": "resets the connection before any byte: TestFaultsThatSendNothing",
}

func goldenCases() []goldenCase {
	var cases []goldenCase
	for _, name := range []string{"success", "missing-linked-identity", "unauthorized", "not-found", "internal-error", "slow", "malformed-body", "service-unavailable"} {
		cases = append(cases, goldenCase{name, []goldenRequest{scenarioRequest(name)}})
	}
	for _, name := range []string{"refresh-then-success", "link-then-success"} {
		// Three requests: both steps, then repeat-last.
		r := scenarioRequest(name)
		r.header = append(r.header, "X-Mock-Session: golden")
		cases = append(cases, goldenCase{name, []goldenRequest{r, r, r}})
	}
	return append(cases,
		goldenCase{"auth-gate", []goldenRequest{{http.MethodPost, tokenURL("mobypay"), []string{"X-Mock-Scenario: success"}}}},
		goldenCase{"by-provider", []goldenRequest{{http.MethodPost, "/federated-identities/unknown/token", []string{"Authorization: Bearer test-token"}}}},
		goldenCase{"mock-unknown-scenario", []goldenRequest{scenarioRequest("no-such-scenario")}},
		goldenCase{"mock-route-not-found", []goldenRequest{{http.MethodPost, "/user/2021-2/federated-identities/mobypay/tokens", []string{"Authorization: Bearer test-token"}}}},
		goldenCase{"mock-method-not-allowed", []goldenRequest{{http.MethodGet, tokenURL("mobypay"), []string{"Authorization: Bearer test-token"}}}},
		goldenCase{"cors-preflight", []goldenRequest{{http.MethodOptions, tokenURL("mobypay"), []string{"Origin: http://localhost:3000", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization,x-mock-scenario"}}}},
	)
}

var (
	tokenValue = regexp.MustCompile(`("(?:access|refresh)_token": ")([A-Za-z0-9_-]*)`)
	xidShape   = regexp.MustCompile(`^[0-9a-v]{20}$`)
)

// renderExchange writes one request and its answer as golden text, volatile values replaced.
func renderExchange(t *testing.T, b *strings.Builder, r goldenRequest, res *http.Response, body []byte) {
	t.Helper()
	fmt.Fprintf(b, "> %s %s\n", r.method, r.path)
	for _, h := range r.header {
		fmt.Fprintf(b, "> %s\n", h)
	}
	fmt.Fprintf(b, "< %s %s\n", res.Proto, res.Status)
	rid := res.Header.Get("Request-Id")
	require.Regexp(t, xidShape, rid, "Request-Id is an xid")
	names := make([]string, 0, len(res.Header))
	for k := range res.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range res.Header[k] {
			switch k {
			case "Request-Id":
				v = "<xid>"
			case "Date":
				_, err := http.ParseTime(v)
				require.NoError(t, err, "Date header")
				v = "<date>"
			}
			fmt.Fprintf(b, "< %s: %s\n", k, v)
		}
	}
	text := strings.ReplaceAll(string(body), rid, "<xid>")
	text = tokenValue.ReplaceAllStringFunc(text, func(m string) string {
		sub := tokenValue.FindStringSubmatch(m)
		return fmt.Sprintf("%s<token:%d>", sub[1], len(sub[2]))
	})
	b.WriteString("<\n")
	b.WriteString(text)
	if text != "" && !strings.HasSuffix(text, "\n") {
		b.WriteString("\n<no final newline>\n")
	}
}

func TestGoldenCoversEveryBuiltin(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, c := range goldenCases() {
		covered[c.name] = true
	}
	for _, sc := range newTestServer(t, Options{}).Scenarios() {
		_, skipped := goldenSkipped[sc.Name]
		assert.True(t, covered[sc.Name] != skipped, "built-in %q needs a golden case or a reason to skip it", sc.Name)
	}
}

func TestGoldenWireResponses(t *testing.T) {
	t.Parallel()
	client := &http.Client{Timeout: 30 * time.Second}
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// One server per case, so sequence positions and seeded data depend on this case alone.
			ts := httptest.NewServer(newTestServer(t, Options{Seed: 42}).Handler())
			defer ts.Close()
			var b strings.Builder
			for i, r := range c.requests {
				if i > 0 {
					b.WriteString("\n")
				}
				req, err := http.NewRequest(r.method, ts.URL+r.path, nil)
				require.NoError(t, err)
				for _, h := range r.header {
					k, v, _ := strings.Cut(h, ": ")
					req.Header.Add(k, v)
				}
				res, err := client.Do(req)
				require.NoError(t, err)
				body, err := io.ReadAll(res.Body)
				require.NoError(t, res.Body.Close())
				require.NoError(t, err)
				renderExchange(t, &b, r, res, body)
			}
			path := filepath.Join("..", "testdata", "golden", c.name+".golden")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no golden file; run: go test ./mock -run Golden -update")
			assert.Equal(t, string(want), b.String(), "wire response changed; if that is intended, run: go test ./mock -run Golden -update")
		})
	}
}

func TestFaultsThatSendNothing(t *testing.T) {
	t.Parallel()
	newReq := func(ctx context.Context, t *testing.T, url, name string) *http.Request {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+tokenURL("mobypay"), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer x")
		req.Header.Set("X-Mock-Scenario", name)
		return req
	}
	t.Run("connection-reset", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{})
		ts := httptest.NewServer(s.Handler())
		defer ts.Close()
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := client.Do(newReq(context.Background(), t, ts.URL, "connection-reset"))
		if res != nil {
			_ = res.Body.Close()
		}
		require.Error(t, err, "no response at all")
		assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF), "a reset, got %v", err)
		// The server keeps serving.
		res, err = client.Do(newReq(context.Background(), t, ts.URL, "success"))
		require.NoError(t, err)
		_ = res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
		journal := s.Requests(RequestFilter{Scenario: "connection-reset"})
		require.Len(t, journal, 1)
		assert.Equal(t, "connection-reset", journal[0].Fault)
	})
	t.Run("timeout holds until the client gives up", func(t *testing.T) {
		t.Parallel()
		ts := httptest.NewServer(newTestServer(t, Options{}).Handler())
		defer ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		res, err := http.DefaultClient.Do(newReq(ctx, t, ts.URL, "timeout"))
		if res != nil {
			_ = res.Body.Close()
		}
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("timeout is released by Close", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{})
		entered := make(chan struct{}, 1)
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			s.Handler().ServeHTTP(w, r)
		}))
		defer ts.Close()
		done := make(chan error, 1)
		go func() {
			res, err := http.DefaultClient.Do(newReq(context.Background(), t, ts.URL, "timeout"))
			if res != nil {
				_ = res.Body.Close()
			}
			done <- err
		}()
		<-entered
		// Whether the handler is already parked or about to be, Close lets it go.
		s.Close()
		err := <-done
		require.Error(t, err, "the connection closes with no response")
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
	})
}
