package mock

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manualClock is a clock that moves only when a test advances it; pass its Now as Options.Now.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// switchScope is one place a switch can live, with how to set it by HTTP and where GET state shows it.
type switchScope struct {
	name    string
	path    string   // the PUT/DELETE route
	headers []string // what a request needs to be in scope
	view    func(State) *Switch
}

var switchScopes = []switchScope{
	{"global", "/__admin/scenario", nil, func(s State) *Switch { return s.Global }},
	{"provider", "/__admin/providers/mobypay", nil, func(s State) *Switch { return s.Providers["mobypay"] }},
	{"session", "/__admin/sessions/k1/scenario", []string{"X-Mock-Session: k1"}, func(s State) *Switch { return s.Sessions["k1"].Global }},
	{"session provider", "/__admin/sessions/k1/providers/mobypay", []string{"X-Mock-Session: k1"}, func(s State) *Switch {
		return s.Sessions["k1"].Providers["mobypay"]
	}},
}

func TestSwitchTimes(t *testing.T) {
	for _, sc := range switchScopes {
		t.Run(sc.name, func(t *testing.T) {
			s := newTestServer(t, Options{})
			h := s.Handler()
			st := decodeAs[State](t, adminOK(t, h, http.MethodPut, sc.path, `{"scenario":"not-found","times":3}`))
			sw := sc.view(st)
			require.NotNil(t, sw)
			require.NotNil(t, sw.TimesLeft)
			assert.Equal(t, 3, *sw.TimesLeft)
			assert.Nil(t, sw.ExpiresAt)

			// Requests a header selects, and requests out of scope, leave the count alone.
			postToken(t, h, "mobypay", append([]string{"X-Mock-Scenario: success"}, sc.headers...)...)
			postToken(t, h, "mobypay", append([]string{"Prefer: code=500"}, sc.headers...)...)
			if sc.name != "global" {
				postToken(t, h, "other-provider", "X-Mock-Session: someone-else")
			}
			assert.Equal(t, 3, *sc.view(adminState(t, h)).TimesLeft)

			for left := 2; left >= 0; left-- {
				w := postToken(t, h, "mobypay", sc.headers...)
				assert.Equal(t, http.StatusNotFound, w.Code)
				if left > 0 {
					assert.Equal(t, left, *sc.view(adminState(t, h)).TimesLeft)
				}
			}
			assert.Nil(t, sc.view(adminState(t, h)), "spent switch is gone")
			w := postToken(t, h, "mobypay", sc.headers...)
			assert.Equal(t, http.StatusOK, w.Code)
			_, by := scenarioOf(w)
			assert.Equal(t, "default", by)
		})
	}
}

func TestSwitchTTL(t *testing.T) {
	for _, sc := range switchScopes {
		t.Run(sc.name, func(t *testing.T) {
			clock := newManualClock()
			start := clock.Now()
			s := newTestServer(t, Options{Now: clock.Now})
			h := s.Handler()
			st := decodeAs[State](t, adminOK(t, h, http.MethodPut, sc.path, `{"scenario":"internal-error","ttl":"30s"}`))
			sw := sc.view(st)
			require.NotNil(t, sw)
			require.NotNil(t, sw.ExpiresAt)
			assert.Equal(t, start.Add(30*time.Second), *sw.ExpiresAt)
			assert.Nil(t, sw.TimesLeft)

			raw := adminOK(t, h, http.MethodGet, "/__admin/state", "").Body.String()
			assert.Contains(t, raw, `"expires_at": "2030-01-02T03:04:35Z"`, "RFC 3339 in UTC")

			clock.Advance(29 * time.Second)
			assert.Equal(t, http.StatusInternalServerError, postToken(t, h, "mobypay", sc.headers...).Code)
			assert.NotNil(t, sc.view(adminState(t, h)))

			clock.Advance(time.Second)
			assert.Nil(t, sc.view(adminState(t, h)), "expired at its deadline")
			assert.Equal(t, http.StatusOK, postToken(t, h, "mobypay", sc.headers...).Code)
		})
	}
}

func TestSwitchTimesAndTTLWhicheverFirst(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration // before the requests
		forced  int           // how many of 4 requests get the switch
	}{
		{"times runs out first", 0, 2},
		{"ttl runs out first", time.Minute, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newManualClock()
			s := newTestServer(t, Options{Now: clock.Now})
			require.NoError(t, s.SetScenario("not-found", Times(2), TTL(time.Minute)))
			sw := s.State().Global
			require.NotNil(t, sw)
			assert.Equal(t, 2, *sw.TimesLeft)
			assert.Equal(t, clock.Now().Add(time.Minute), *sw.ExpiresAt)
			clock.Advance(tt.advance)
			forced := 0
			for range 4 {
				if postToken(t, s.Handler(), "p").Code == http.StatusNotFound {
					forced++
				}
			}
			assert.Equal(t, tt.forced, forced)
			assert.Nil(t, s.State().Global)
		})
	}
}

// TestSwitchTimesUnderConcurrency fires M requests at once at a switch good for N: exactly N get it.
func TestSwitchTimesUnderConcurrency(t *testing.T) {
	const n, m = 7, 40
	for _, sc := range switchScopes {
		t.Run(sc.name, func(t *testing.T) {
			s := newTestServer(t, Options{JournalSize: -1})
			h := s.Handler()
			adminOK(t, h, http.MethodPut, sc.path, fmt.Sprintf(`{"scenario":"internal-error","times":%d}`, n))
			codes := make(chan int, m)
			var wg sync.WaitGroup
			for range m {
				wg.Go(func() { codes <- postToken(t, h, "mobypay", sc.headers...).Code })
			}
			wg.Wait()
			close(codes)
			count := map[int]int{}
			for c := range codes {
				count[c]++
			}
			assert.Equal(t, map[int]int{http.StatusInternalServerError: n, http.StatusOK: m - n}, count)
			assert.Nil(t, sc.view(s.State()))
		})
	}
}

func TestStateShape(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now})
	h := s.Handler()
	assert.JSONEq(t, `{"global":null,"providers":{},"sessions":{}}`, adminOK(t, h, http.MethodGet, "/__admin/state", "").Body.String())

	adminOK(t, h, http.MethodPut, "/__admin/scenario", `{"scenario":"not-found","times":2,"ttl":"1h"}`)
	adminOK(t, h, http.MethodPut, "/__admin/providers/mobypay", `{"scenario":"internal-error"}`)
	adminOK(t, h, http.MethodPut, "/__admin/sessions/k/providers/acme", `{"scenario":"unauthorized","times":1}`)
	assert.JSONEq(t, `{
		"global": {"scenario": "not-found", "times_left": 2, "expires_at": "2030-01-02T04:04:05Z"},
		"providers": {"mobypay": {"scenario": "internal-error"}},
		"sessions": {"k": {"global": null, "providers": {"acme": {"scenario": "unauthorized", "times_left": 1}}}}
	}`, adminOK(t, h, http.MethodGet, "/__admin/state", "").Body.String())

	// A session whose only switch is spent drops out of the state (it lives on in GET sessions).
	postToken(t, h, "acme", "X-Mock-Session: k")
	st := adminState(t, h)
	assert.NotContains(t, st.Sessions, "k")
	assert.Equal(t, []string{"k"}, sessionKeys(s.Sessions()))
}
