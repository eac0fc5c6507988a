package mock

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stressResult collects what went wrong across goroutines; the test fails on any entry.
type stressResult struct {
	mu       sync.Mutex
	problems []string
	statuses map[int]int
}

func (r *stressResult) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.problems) < 20 {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	}
}

func (r *stressResult) count(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses[status]++
}

// stressClient sends requests over one shared keep-alive transport and checks each answer.
type stressClient struct {
	base string
	c    *http.Client
	res  *stressResult
}

// do sends one request and returns its status, recording a problem if the status is not one of
// allowed or the answer lacks a Request-Id.
func (sc *stressClient) do(method, path, body string, headers [][2]string, allowed []int) int {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, sc.base+path, rd)
	if err != nil {
		sc.res.fail("%s %s: %v", method, path, err)
		return 0
	}
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
	resp, err := sc.c.Do(req)
	if err != nil {
		sc.res.fail("%s %s %v: %v", method, path, headers, err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if !slices.Contains(allowed, resp.StatusCode) {
		sc.res.fail("%s %s %v: status %d, want one of %v", method, path, headers, resp.StatusCode, allowed)
	}
	if len(resp.Header.Get("Request-Id")) != 20 {
		sc.res.fail("%s %s: Request-Id %q", method, path, resp.Header.Get("Request-Id"))
	}
	return resp.StatusCode
}

// Scenarios the stress mix may select: none of them faults or long delays.
var stressScenarios = []string{"success", "not-found", "internal-error", "unauthorized", "missing-linked-identity",
	"refresh-then-success", "link-then-success", "service-unavailable", "malformed-body", "teapot", "flaky"}

// Every status those can produce, plus 400 for a selector naming a scenario a reload removed.
var stressStatuses = []int{200, 400, 401, 404, 410, 418, 500, 503}

// stressShot builds one random token request: provider, session, selector and auth mixed.
func stressShot(r *rand.Rand) (provider string, headers [][2]string) {
	provider = []string{"mobypay", "acme", "kettle", "broken", "unlinked", "unknown"}[r.IntN(6)]
	if r.IntN(20) != 0 {
		headers = append(headers, [2]string{"Authorization", "Bearer stress-token"})
	}
	switch n := r.IntN(20); {
	case n < 7:
		headers = append(headers, [2]string{"X-Mock-Session", fmt.Sprint("s", r.IntN(30))})
	case n < 10:
		headers = append(headers, [2]string{"Cookie", fmt.Sprint("fedtoken_mock_session=s", r.IntN(30))})
	}
	switch n := r.IntN(20); {
	case n < 4:
		headers = append(headers, [2]string{"X-Mock-Scenario", stressScenarios[r.IntN(len(stressScenarios))]})
	case n < 6:
		headers = append(headers, [2]string{"Prefer", "example=" + stressScenarios[r.IntN(len(stressScenarios))]})
	case n < 8:
		headers = append(headers, [2]string{"Prefer", fmt.Sprint("code=", []int{401, 404, 418, 500, 503}[r.IntN(5)])})
	case n < 9:
		headers = append(headers, [2]string{"X-Mock-Scenario", "no-such-scenario"})
	}
	return provider, headers
}

// TestStress hammers the endpoint from many goroutines while others switch scenarios, reload,
// reset and read the journal and state; every answer must be an expected one, and no goroutine
// may outlive the server.
func TestStress(t *testing.T) {
	workers, perWorker, controlRounds := 8, 150, 60
	if testing.Short() {
		workers, perWorker, controlRounds = 4, 40, 15
	}
	baseline := runtime.NumGoroutine()

	dir := t.TempDir()
	useFixture(t, dir, "valid")
	s, err := New(Options{Dir: dir, JournalSize: 200, MaxSessions: 20, Seed: 5})
	require.NoError(t, err)
	ts := httptest.NewServer(s.Handler())
	tr := &http.Transport{MaxIdleConnsPerHost: workers + 4}
	res := &stressResult{statuses: map[int]int{}}
	sc := &stressClient{base: ts.URL, c: &http.Client{Transport: tr, Timeout: time.Minute}, res: res}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range perWorker {
				provider, headers := stressShot(r)
				path := tokenURL(provider)
				if r.IntN(4) == 0 {
					path = strings.TrimPrefix(path, "/user/2021-2")
				}
				res.count(sc.do(http.MethodPost, path, "", headers, stressStatuses))
			}
		})
	}
	// Switcher: global, provider and session switches, some counted, some cleared.
	wg.Go(func() {
		r := rand.New(rand.NewPCG(100, 1))
		paths := []string{"/__admin/scenario", "/__admin/providers/mobypay", "/__admin/providers/acme", "/__admin/sessions/s1/scenario", "/__admin/sessions/s2/providers/acme"}
		for range controlRounds {
			p := paths[r.IntN(len(paths))]
			if r.IntN(4) == 0 {
				sc.do(http.MethodDelete, p, "", nil, []int{200})
				continue
			}
			body := fmt.Sprintf(`{"scenario":%q}`, stressScenarios[r.IntN(len(stressScenarios))])
			if r.IntN(3) == 0 {
				body = fmt.Sprintf(`{"scenario":%q,"times":3,"ttl":"1m"}`, stressScenarios[r.IntN(len(stressScenarios))])
			}
			// 400: the scenario may have been removed by a concurrent reload.
			sc.do(http.MethodPut, p, body, nil, []int{200, 400})
		}
	})
	// Reloader: valid, edited and broken sets in turn; a broken one must be refused whole.
	wg.Go(func() {
		fixtures := []string{"changed", "broken", "valid"}
		for i := range controlRounds / 3 {
			name := fixtures[i%len(fixtures)]
			if err := copyFixture(dir, name); err != nil {
				res.fail("fixture %s: %v", name, err)
				return
			}
			want := []int{200}
			if name == "broken" {
				want = []int{422}
			}
			sc.do(http.MethodPost, "/__admin/reload", "", nil, want)
		}
	})
	// Reader: journal, state, sessions, scenarios, health.
	wg.Go(func() {
		reads := []string{"/__admin/requests", "/__admin/requests?provider=acme&limit=5", "/__admin/requests?session=s1",
			"/__admin/state", "/__admin/sessions", "/__admin/scenarios", "/__admin/health"}
		for i := range controlRounds * 2 {
			sc.do(http.MethodGet, reads[i%len(reads)], "", nil, []int{200})
			_ = s.Requests(RequestFilter{Scenario: "success"})
			_ = s.State()
		}
	})
	// Janitor: resets, journal clears and session drops.
	wg.Go(func() {
		for i := range controlRounds {
			switch i % 3 {
			case 0:
				sc.do(http.MethodPost, "/__admin/reset", "", nil, []int{200})
			case 1:
				sc.do(http.MethodDelete, "/__admin/requests", "", nil, []int{200})
			default:
				sc.do(http.MethodDelete, fmt.Sprint("/__admin/sessions/s", i%30), "", nil, []int{200})
			}
		}
	})
	wg.Wait()

	assert.Empty(t, res.problems)
	t.Logf("statuses of %d token requests: %v", workers*perWorker, res.statuses)
	assert.Greater(t, res.statuses[200], 0)
	assert.LessOrEqual(t, len(s.Sessions()), 20, "MaxSessions held under churn")
	for _, r := range s.Requests(RequestFilter{}) {
		assert.Len(t, r.RequestID, 20)
		assert.Contains(t, stressStatuses, r.Status)
	}

	// Still healthy: a reset mock answers the default.
	s.Reset()
	useFixture(t, dir, "valid")
	_, err = s.Reload()
	require.NoError(t, err)
	assert.Equal(t, 200, sc.do(http.MethodPost, tokenURL("mobypay"), "", [][2]string{{"Authorization", "Bearer x"}}, []int{200}))

	tr.CloseIdleConnections()
	s.Close()
	ts.Close()
	// A few goroutines of the runtime or earlier tests may come and go; a leak would be dozens.
	const slack = 3
	last := 0
	if !assert.Eventually(t, func() bool { last = runtime.NumGoroutine(); return last <= baseline+slack }, 5*time.Second, 10*time.Millisecond,
		"goroutines did not return to their baseline of %d", baseline) {
		buf := make([]byte, 1<<20)
		t.Logf("%d goroutines left:\n%s", last, buf[:runtime.Stack(buf, true)])
	}
}
