package mock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Reliability tests: a soak under mixed load with concurrent control, and thousands of held
// requests at once. They bound themselves by counts; deadlines below only turn a hang into a
// failure and never judge speed.

// soakGuard bounds every wait in these tests.
const soakGuard = 30 * time.Second

// User scenario files of the soak. soak-user alternates between two valid versions (status 200
// and 202) on every valid reload; a broken file makes every other reload fail.
const (
	soakUserV1 = "description: soak user scenario, version 1\ncontract: off\nstatus: 200\nbody:\n  version: 1\n"
	soakUserV2 = "description: soak user scenario, version 2\ncontract: off\nstatus: 202\nbody:\n  version: 2\n"
	soakDelay  = "description: soak short delay\ncontract: off\ndelay: 1ms..3ms\nstatus: 200\nbody:\n  delayed: true\n"
	soakBroken = "description: broken on purpose\nstatus: 999\ncolour: blue\n"
)

// soakCase is one kind of request the soak sends, with every answer its selection allows.
type soakCase struct {
	name     string
	provider string
	headers  [][2]string
	statuses []int  // allowed statuses; nil means the scenario sends no response at all
	scenario string // the X-Mock-Scenario answer expected; "" when runtime switches decide
	notJSON  bool   // the body is not JSON (malformed-body, the gateway page of a 503); else it must be
	giveUp   bool   // the client gives up (a hang); any outcome but a response is fine
}

// Statuses a request without selector may see: the switches the controller sets (success,
// not-found, internal-error, soak-user in either version) or none.
var soakSwitchable = []int{200, 202, 404, 500}

var soakCases = []soakCase{
	{name: "header success", provider: "mobypay", headers: [][2]string{{"X-Mock-Scenario", "success"}}, statuses: []int{200}, scenario: "success"},
	{name: "header not-found", provider: "mobypay", headers: [][2]string{{"X-Mock-Scenario", "not-found"}}, statuses: []int{404}, scenario: "not-found"},
	{name: "prefer code", provider: "acme", headers: [][2]string{{"Prefer", "code=500"}}, statuses: []int{500}, scenario: "internal-error"},
	{name: "prefer example", provider: "acme", headers: [][2]string{{"Prefer", "example=service-unavailable"}}, statuses: []int{503}, scenario: "service-unavailable", notJSON: true},
	{name: "no bearer", provider: "mobypay", headers: [][2]string{{"Authorization", ""}}, statuses: []int{401}, scenario: "unauthorized"},
	{name: "unknown scenario", provider: "mobypay", headers: [][2]string{{"X-Mock-Scenario", "no-such-scenario"}}, statuses: []int{400}},
	{name: "sequence in a session", provider: "mobypay", headers: [][2]string{{"X-Mock-Scenario", "refresh-then-success"}, {"X-Mock-Session", "seq"}}, statuses: []int{401, 200}, scenario: "refresh-then-success"},
	{name: "user scenario", provider: "mobypay", headers: [][2]string{{"X-Mock-Scenario", "soak-user"}}, statuses: []int{200, 202}, scenario: "soak-user"},
	{name: "user delay", provider: "mobypay", headers: [][2]string{{"X-Mock-Scenario", "soak-delay"}}, statuses: []int{200}, scenario: "soak-delay"},
	{name: "built-in provider", provider: "unknown", statuses: soakSwitchable},
	{name: "global switch", provider: "mobypay", statuses: soakSwitchable},
	{name: "provider switch", provider: "acme", statuses: soakSwitchable},
	{name: "session switch", provider: "mobypay", headers: [][2]string{{"X-Mock-Session", "switched"}}, statuses: soakSwitchable},
	{name: "session cookie", provider: "mobypay", headers: [][2]string{{"Cookie", "fedtoken_mock_session=switched"}}, statuses: soakSwitchable},
	{name: "malformed body", provider: "mobypay", headers: [][2]string{{"X-Mock-Scenario", "malformed-body"}}, statuses: []int{200}, scenario: "malformed-body", notJSON: true},
	{name: "connection reset", provider: "mobypay", headers: [][2]string{{"X-Mock-Scenario", "connection-reset"}}},
	{name: "hang, client gives up", provider: "mobypay", headers: [][2]string{{"X-Mock-Scenario", "timeout"}}, giveUp: true},
}

// soakLog collects failures from many goroutines, keeping the first few in full.
type soakLog struct {
	mu       sync.Mutex
	n        int
	problems []string
}

func (l *soakLog) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if len(l.problems) < 20 {
		l.problems = append(l.problems, fmt.Sprintf(format, args...))
	}
}

// check sends one request of case c and records anything the case does not allow.
func (c soakCase) check(client *http.Client, base string, log *soakLog) {
	ctx := context.Background()
	if c.giveUp {
		// The client gives up on its own; the server must then let the hang go.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+tokenURL(c.provider), nil)
	if err != nil {
		log.fail("%s: %v", c.name, err)
		return
	}
	req.Header.Set("Authorization", "Bearer soak-token")
	for _, h := range c.headers {
		if h[1] == "" {
			req.Header.Del(h[0])
			continue
		}
		req.Header.Set(h[0], h[1])
	}
	resp, err := client.Do(req)
	if c.giveUp {
		if err == nil {
			resp.Body.Close()
			log.fail("%s: a hang answered %d", c.name, resp.StatusCode)
		}
		return
	}
	if c.statuses == nil {
		if err == nil {
			resp.Body.Close()
			log.fail("%s: want no response, got %d", c.name, resp.StatusCode)
		}
		return
	}
	if err != nil {
		log.fail("%s: %v", c.name, err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.fail("%s: reading the body: %v", c.name, err)
	}
	if !slices.Contains(c.statuses, resp.StatusCode) {
		log.fail("%s: status %d, want one of %v: %s", c.name, resp.StatusCode, c.statuses, body)
	}
	if rid := resp.Header.Get("Request-Id"); len(rid) != 20 {
		log.fail("%s: Request-Id %q", c.name, rid)
	}
	if got := resp.Header.Get("X-Mock-Scenario"); c.scenario != "" && got != c.scenario {
		log.fail("%s: X-Mock-Scenario %q, want %q", c.name, got, c.scenario)
	}
	if json.Valid(body) == c.notJSON {
		log.fail("%s: body is JSON = %v, want %v: %q", c.name, c.notJSON, !c.notJSON, body)
	}
}

// soakAdmin calls the admin API and records an unexpected status; it returns the body.
func soakAdmin(client *http.Client, base, method, path, body string, want int, log *soakLog) []byte {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		log.fail("%s %s: %v", method, path, err)
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		log.fail("%s %s: %v", method, path, err)
		return nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		log.fail("%s %s: reading the body: %v", method, path, err)
	}
	if resp.StatusCode != want {
		log.fail("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if rid := resp.Header.Get("Request-Id"); len(rid) != 20 {
		log.fail("%s %s: Request-Id %q", method, path, rid)
	}
	return data
}

// soakControl is one round of the controller: switches, a reload (valid or broken in turn),
// journal and state reads, and now and then a reset or a journal clear.
func soakControl(round int, dir string, client *http.Client, base string, log *soakLog) {
	switchTo := []string{"success", "not-found", "internal-error", "soak-user"}[round%4]
	soakAdmin(client, base, http.MethodPut, "/__admin/scenario", `{"scenario":"`+switchTo+`"}`, 200, log)
	soakAdmin(client, base, http.MethodPut, "/__admin/providers/acme", `{"scenario":"internal-error","times":5}`, 200, log)
	soakAdmin(client, base, http.MethodPut, "/__admin/sessions/switched/scenario", `{"scenario":"not-found","ttl":"1m"}`, 200, log)

	broken := filepath.Join(dir, "broken.yaml")
	switch round % 3 {
	case 0: // broken: refused whole, the previous set keeps serving
		if err := os.WriteFile(broken, []byte(soakBroken), 0o600); err != nil {
			log.fail("write broken: %v", err)
		}
		soakAdmin(client, base, http.MethodPost, "/__admin/reload", "", http.StatusUnprocessableEntity, log)
	default: // valid, with soak-user in the other version
		if err := os.Remove(broken); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.fail("remove broken: %v", err)
		}
		version := soakUserV1
		if round%2 == 1 {
			version = soakUserV2
		}
		if err := os.WriteFile(filepath.Join(dir, "soak-user.yaml"), []byte(version), 0o600); err != nil {
			log.fail("write soak-user: %v", err)
		}
		soakAdmin(client, base, http.MethodPost, "/__admin/reload", "", 200, log)
	}

	var journal struct {
		Requests []struct {
			RequestID string `json:"request_id"`
			Status    int    `json:"status"`
			Fault     string `json:"fault"`
		} `json:"requests"`
	}
	data := soakAdmin(client, base, http.MethodGet, "/__admin/requests?limit=200", "", 200, log)
	if err := json.Unmarshal(data, &journal); err != nil {
		log.fail("journal: %v: %.200s", err, data)
	}
	for _, e := range journal.Requests {
		if len(e.RequestID) != 20 || e.Status == 0 && e.Fault == "" {
			log.fail("journal entry %+v", e)
		}
	}
	var state State
	if err := json.Unmarshal(soakAdmin(client, base, http.MethodGet, "/__admin/state", "", 200, log), &state); err != nil {
		log.fail("state: %v", err)
	}
	soakAdmin(client, base, http.MethodGet, "/__admin/health", "", 200, log)
	switch round % 5 {
	case 2:
		soakAdmin(client, base, http.MethodPost, "/__admin/reset", "", 200, log)
	case 4:
		soakAdmin(client, base, http.MethodDelete, "/__admin/requests", "", 200, log)
	}
}

// heapAlloc is the live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// threadCount is the process's OS threads now (/proc), else the threads ever created.
func threadCount() int {
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "Threads:"); ok {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					return n
				}
			}
		}
	}
	return pprof.Lookup("threadcreate").Count()
}

// waitGoroutines polls until the goroutine count is back within slack of baseline; on failure
// it prints the goroutines left, which name the leak.
func waitGoroutines(t *testing.T, baseline, slack int) {
	t.Helper()
	last := 0
	if !assert.Eventually(t, func() bool { last = runtime.NumGoroutine(); return last <= baseline+slack },
		soakGuard, 10*time.Millisecond, "goroutines: baseline %d, still %d", baseline, last) {
		buf := make([]byte, 1<<20)
		t.Logf("goroutines left:\n%s", buf[:runtime.Stack(buf, true)])
	}
}

// TestSoak runs the token endpoint under concurrent mixed load through a real HTTP server while
// a controller switches scenarios, reloads valid and broken files, resets and reads the journal
// and state. Every answer must be one its selection allows, and afterwards neither goroutines
// nor heap may stay behind.
func TestSoak(t *testing.T) {
	workers, perWorker, minRounds := 8, 400, 30
	if testing.Short() {
		workers, perWorker, minRounds = 4, 100, 9
	}
	baseGoroutines := runtime.NumGoroutine()
	baseHeap := heapAlloc()

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "soak-user.yaml"), []byte(soakUserV1), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "soak-delay.yaml"), []byte(soakDelay), 0o600))
	s, err := New(Options{Dir: dir, MaxSessions: 50})
	require.NoError(t, err)
	ts := httptest.NewServer(s.Handler())
	tr := &http.Transport{MaxIdleConnsPerHost: workers + 2}
	client := &http.Client{Transport: tr, Timeout: soakGuard}
	log := &soakLog{}

	var sent atomic.Int64
	var workersDone sync.WaitGroup
	for w := range workers {
		workersDone.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range perWorker {
				c := soakCases[r.IntN(len(soakCases))]
				c.check(client, ts.URL, log)
				sent.Add(1)
			}
		})
	}
	stop := make(chan struct{})
	controlDone := make(chan int)
	go func() {
		round := 0
		for {
			select {
			case <-stop:
				if round >= minRounds {
					controlDone <- round
					return
				}
			default:
			}
			soakControl(round, dir, client, ts.URL, log)
			round++
		}
	}()
	workersDone.Wait()
	close(stop)
	rounds := <-controlDone

	assert.Zero(t, log.n, "problems (first %d): %s", len(log.problems), strings.Join(log.problems, "\n"))
	t.Logf("%d token requests, %d control rounds (%d reloads, a third of them refused)", sent.Load(), rounds, rounds)

	// The mock still answers normally after all that.
	s.Reset()
	w := postToken(t, s.Handler(), "mobypay")
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())

	tr.CloseIdleConnections()
	ts.Close()
	s.Close()
	waitGoroutines(t, baseGoroutines, 3)
	// The journal ring (1000 entries with their headers) stays reachable through s; 16 MiB is
	// far above it, and below what leaking one connection's buffers (16 KiB) per request would hold.
	grown := int64(heapAlloc()) - int64(baseHeap)
	t.Logf("heap: %+d KiB after the soak", grown>>10)
	assert.Less(t, grown, int64(16<<20), "heap grew by %d KiB", grown>>10)
	runtime.KeepAlive(s)
}

// heldDelay is a user scenario that holds its request for 30 s before answering.
const heldDelay = "description: held 30s\ncontract: off\ndelay: 30s\nstatus: 200\nbody:\n  late: true\n"

// TestManyHeldRequests parks thousands of requests at once on a hanging and a delayed scenario
// through a real server: each holds goroutines, not threads, memory stays bounded, Close
// releases every hang, and a delayed request ends as soon as its client gives up.
func TestManyHeldRequests(t *testing.T) {
	hangs, delays := 2000, 2000
	if testing.Short() {
		hangs, delays = 200, 200
	}
	baseGoroutines := runtime.NumGoroutine()
	baseHeap := heapAlloc()
	baseThreads := threadCount()

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "held.yaml"), []byte(heldDelay), 0o600))
	s, err := New(Options{Dir: dir, JournalSize: hangs + delays + delays/10})
	require.NoError(t, err)
	var inHandler atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler.Add(1)
		defer inHandler.Add(-1)
		s.Handler().ServeHTTP(w, r)
	}))
	defer ts.Close()
	addr := ts.Listener.Addr().String()

	// Clients are raw connections, so the figures below are the server's alone: a client that
	// has sent its request and waits costs this process a socket, no goroutine.
	open := func(scenario string) net.Conn {
		conn, err := net.DialTimeout("tcp", addr, soakGuard)
		require.NoError(t, err)
		_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer held\r\nX-Mock-Scenario: %s\r\nContent-Length: 0\r\n\r\n", tokenURL("mobypay"), scenario)
		require.NoError(t, err)
		return conn
	}
	hangConns := make([]net.Conn, 0, hangs)
	delayConns := make([]net.Conn, 0, delays)
	defer func() {
		for _, c := range append(hangConns, delayConns...) {
			c.Close()
		}
	}()
	for range hangs {
		hangConns = append(hangConns, open("timeout"))
	}
	for range delays {
		delayConns = append(delayConns, open("held"))
	}
	total := int64(hangs + delays)
	require.Eventually(t, func() bool { return inHandler.Load() == total }, soakGuard, 10*time.Millisecond,
		"held requests: %d of %d", inHandler.Load(), total)

	goroutines := runtime.NumGoroutine() - baseGoroutines
	threads := threadCount()
	heap := int64(heapAlloc()) - int64(baseHeap)
	t.Logf("%d held requests: %+d goroutines, %d threads (%d before), %+d KiB heap (%.1f KiB each)",
		total, goroutines, threads, baseThreads, heap>>10, float64(heap)/1024/float64(total))
	assert.GreaterOrEqual(t, goroutines, int(total), "each held request parks at least its connection's goroutine")
	assert.Less(t, goroutines, int(4*total), "a handful of goroutines per request, not more")
	assert.Less(t, threads, 100, "held requests park goroutines, not OS threads")
	// Each held request costs its connection's buffers (about 16 KiB measured); 4 MiB absorbs
	// what the rest of the process allocates meanwhile.
	assert.Less(t, heap, int64(total)*32<<10+4<<20, "under 32 KiB of heap per held request")

	// Close releases every hang: the server drops those connections without an answer.
	closed := time.Now()
	s.Close()
	deadline := time.Now().Add(soakGuard)
	for i, c := range hangConns {
		require.NoError(t, c.SetReadDeadline(deadline))
		n, err := c.Read(make([]byte, 1))
		require.Zero(t, n, "hang %d answered", i)
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "hang %d still held after Close", i)
	}
	require.Eventually(t, func() bool { return inHandler.Load() == int64(delays) }, soakGuard, 10*time.Millisecond,
		"after Close only the delayed requests are left: %d", inHandler.Load())
	// Reported, not asserted: how long releasing every hang took on this machine.
	t.Logf("Close released %d hangs in %v", hangs, time.Since(closed).Round(time.Millisecond))

	// Delays outlive Close on purpose (a graceful shutdown lets them finish); a client that
	// gives up ends its request at once. Half hang up their connection, half are real clients
	// whose context is cancelled.
	for _, c := range delayConns[:delays/2] {
		c.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var clientsDone sync.WaitGroup
	var clientErrs atomic.Int64
	for range delays / 20 {
		clientsDone.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+tokenURL("mobypay"), nil)
			if err != nil {
				return
			}
			req.Header.Set("Authorization", "Bearer held")
			req.Header.Set("X-Mock-Scenario", "held")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				return
			}
			clientErrs.Add(1)
		})
	}
	rest := int64(delays - delays/2)
	require.Eventually(t, func() bool { return inHandler.Load() == rest+int64(delays/20) }, soakGuard, 10*time.Millisecond,
		"delayed requests left after half the clients hung up: %d", inHandler.Load())
	cancel()
	clientsDone.Wait()
	assert.Equal(t, int64(delays/20), clientErrs.Load(), "every cancelled client saw its request end")
	for _, c := range delayConns[delays/2:] {
		c.Close()
	}
	require.Eventually(t, func() bool { return inHandler.Load() == 0 }, soakGuard, 10*time.Millisecond,
		"requests still held after every client left: %d", inHandler.Load())

	// The journal tells each ending: hangs released, delays abandoned by their clients.
	faults := map[string]int{}
	for _, e := range s.Requests(RequestFilter{}) {
		faults[e.Fault]++
	}
	assert.Equal(t, map[string]int{"hang": hangs, "client-gone": delays + delays/20}, faults)

	http.DefaultClient.CloseIdleConnections()
	ts.Close()
	waitGoroutines(t, baseGoroutines, 3)
}
